//! Why the server refused a form (sign-in, sign-up, password, invite), as the page shows it.
