//! The words the sign-in, sign-up, account and invite pages show.
