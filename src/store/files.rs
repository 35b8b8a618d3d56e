//! Files in the data directory: everything jobrank writes there is readable by the
//! service's user only (the store holds password hashes).

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every file jobrank writes in the data directory and of backups: the
/// store holds password hashes, so only the service's user reads it.
pub(crate) fn private_file_mode() -> std::fs::Permissions {
    std::fs::Permissions::from_mode(0o600)
}

/// Creates a directory (and missing parents) readable by the owner only (0700); an
/// existing one is left as it is (the deployment may have chosen its mode).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates an empty file with mode 0600 unless it exists. The mode is set with
/// `fchmod` too, so no umask widens or narrows it.
pub(super) fn create_private_file(path: &Path) -> std::io::Result<()> {
    match File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(f) => f.set_permissions(private_file_mode()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes a small file with mode 0600.
pub(super) fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(private_file_mode())?;
    f.write_all(content)
}

/// Narrows an existing file to mode 0600 (stores and backups written by older
/// versions, files moved aside by a restore); a missing file is fine, and a file this
/// process may not change is logged, not fatal.
pub(crate) fn make_private(path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.permissions().mode() & 0o077 == 0 {
        return;
    }
    if let Err(e) = std::fs::set_permissions(path, private_file_mode()) {
        tracing::warn!(file = %path.display(), error = %e, "cannot make the file private (mode 0600)");
    }
}
