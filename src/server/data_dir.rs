//! The data directory holds the chat history and the TLS key: it is made readable by its
//! owner only, whichever part of the server needs it first.

use std::io;
use std::path::Path;

/// Creates `dir` (and any missing parents) with mode 0700. One that already exists is left
/// as it is, with a warning if others may read it: it may be a directory the operator chose
/// for other things too.
pub fn create(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let existed = dir.is_dir();
        builder.mode(0o700).create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if existed && mode & 0o077 != 0 {
            tracing::warn!(
                "the data directory {} can be read by other users (mode {mode:o}); \
                 chmod 700 it to keep the chat history and the TLS key private",
                dir.display()
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_directory_and_its_new_parents_are_private() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("a/b");
        create(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&scratch.path().join("a")), 0o700);
        // Again: nothing to do.
        create(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn an_existing_directory_is_left_alone() {
        let scratch = tempfile::tempdir().unwrap();
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        create(scratch.path()).unwrap();
        assert_eq!(mode(scratch.path()), 0o755);
    }
}
