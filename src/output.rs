//! Writing the output directory safely. Every file is first written in full to a staging
//! directory inside the output directory; only when all are written are they renamed into
//! place (each rename is atomic), so a run that fails leaves the previous output as it was.
//! A manifest lists the files crossgrant wrote; only those are ever removed, and never
//! through a symbolic link or outside the output directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

pub const MANIFEST: &str = ".crossgrant-manifest";
const MANIFEST_HEADER: &str = "# Files written by crossgrant; it removes only files listed here.";
const STAGING: &str = ".crossgrant-staging";

#[derive(Debug)]
pub enum OutputError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A path would leave the output directory (`..`, absolute, or a manifest entry that
    /// was edited to point elsewhere).
    Escapes { path: PathBuf },
    /// A path inside the output directory runs through a symbolic link.
    Symlink { path: PathBuf },
    /// Something other than a regular file stands where crossgrant writes a file.
    NotAFile { path: PathBuf },
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
            OutputError::Escapes { path } => write!(
                f,
                "refusing to touch {}: it is outside the output directory",
                path.display()
            ),
            OutputError::Symlink { path } => write!(
                f,
                "refusing to write through the symbolic link {}: replace it with a plain directory or choose another --out",
                path.display()
            ),
            OutputError::NotAFile { path } => write!(
                f,
                "refusing to replace {}: it is not a regular file; move it away or choose another --out",
                path.display()
            ),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |error| OutputError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A relative path made only of normal components.
fn contained(relative: &Path) -> Result<(), OutputError> {
    let normal = relative.components().count() > 0
        && relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    if normal {
        Ok(())
    } else {
        Err(OutputError::Escapes {
            path: relative.to_path_buf(),
        })
    }
}

/// Refuses a path whose components below `root` include a symbolic link.
fn no_symlinks(root: &Path, relative: &Path) -> Result<(), OutputError> {
    let mut path = root.to_path_buf();
    for component in relative.components() {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(OutputError::Symlink { path });
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// The files the last run wrote, as its manifest lists them.
pub fn read_manifest(root: &Path) -> Result<BTreeSet<PathBuf>, OutputError> {
    let path = root.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(error) => return Err(io(&path)(error)),
    };
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let relative = PathBuf::from(line);
            contained(&relative)?;
            Ok(relative)
        })
        .collect()
}

fn manifest_text(files: &BTreeMap<PathBuf, String>) -> String {
    let mut text = format!("{MANIFEST_HEADER}\n");
    for path in files.keys() {
        text.push_str(&path.to_string_lossy());
        text.push('\n');
    }
    text
}

/// How a file on disk differs from what the scenario renders to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drift {
    Missing(PathBuf),
    Changed(PathBuf),
    /// Written by an earlier run, no longer rendered: a write would delete it.
    Stale(PathBuf),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(path) => write!(f, "missing: {}", path.display()),
            Drift::Changed(path) => write!(f, "changed: {}", path.display()),
            Drift::Stale(path) => write!(f, "stale:   {}", path.display()),
        }
    }
}

/// What differs between the output directory and `files`, without writing anything.
pub fn check(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Vec<Drift>, OutputError> {
    let mut drift = Vec::new();
    for (relative, text) in files {
        contained(relative)?;
        let path = root.join(relative);
        match fs::read(&path) {
            Ok(bytes) if bytes == text.as_bytes() => {}
            Ok(_) => drift.push(Drift::Changed(relative.clone())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                drift.push(Drift::Missing(relative.clone()))
            }
            Err(error) => return Err(io(&path)(error)),
        }
    }
    for relative in read_manifest(root)? {
        if !files.contains_key(&relative) && root.join(&relative).exists() {
            drift.push(Drift::Stale(relative));
        }
    }
    let manifest_path = PathBuf::from(MANIFEST);
    match fs::read_to_string(root.join(MANIFEST)) {
        Ok(text) if text == manifest_text(files) => {}
        Ok(_) if drift.is_empty() => drift.push(Drift::Changed(manifest_path)),
        Err(_) if drift.is_empty() => drift.push(Drift::Missing(manifest_path)),
        _ => {}
    }
    Ok(drift)
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub updated: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
}

/// Writes `files` under `root`, removes files an earlier run wrote that are no longer
/// rendered, and records the new manifest. Either every change lands or, on any error, the
/// output directory is left as it was.
pub fn write(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Written, OutputError> {
    for relative in files.keys() {
        contained(relative)?;
        no_symlinks(root, relative)?;
    }
    let previous = read_manifest(root)?;
    for relative in &previous {
        no_symlinks(root, relative)?;
    }
    let (changed, unchanged) = classify(root, files)?;
    // Nothing to change: nothing is staged, synced or moved.
    let up_to_date = changed.is_empty()
        && previous.iter().all(|relative| files.contains_key(relative))
        && fs::read_to_string(root.join(MANIFEST)).is_ok_and(|text| text == manifest_text(files));
    if up_to_date {
        return Ok(Written {
            unchanged,
            ..Written::default()
        });
    }
    fs::create_dir_all(root).map_err(io(root))?;
    let staging_name = PathBuf::from(format!("{STAGING}-{}", std::process::id()));
    no_symlinks(root, &staging_name)?;
    let staging = root.join(&staging_name);
    // A staging directory left by a crashed run that had this process id holds only
    // crossgrant's own temporary copies.
    if staging.is_dir() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    fs::create_dir(&staging).map_err(io(&staging))?;
    let staged = stage(&staging, files, &changed);
    let result = staged.and_then(|()| {
        let mut written = commit(root, &staging, files, &changed, &previous)?;
        written.unchanged = unchanged;
        Ok(written)
    });
    let _ = fs::remove_dir_all(&staging);
    result
}

/// Which rendered files differ from what is on disk (or are missing), and which do not.
fn classify(
    root: &Path,
    files: &BTreeMap<PathBuf, String>,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), OutputError> {
    let mut changed = Vec::new();
    let mut unchanged = Vec::new();
    for (relative, text) in files {
        let target = root.join(relative);
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_file() => {
                if fs::read(&target).is_ok_and(|bytes| bytes == text.as_bytes()) {
                    unchanged.push(relative.clone());
                } else {
                    changed.push(relative.clone());
                }
            }
            Ok(_) => return Err(OutputError::NotAFile { path: target }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                changed.push(relative.clone())
            }
            Err(error) => return Err(io(&target)(error)),
        }
    }
    Ok((changed, unchanged))
}

/// Writes the changed files and the new manifest into the staging directory and makes them
/// durable before anything is moved into place. Files are written from a few threads at once,
/// and made durable with one filesystem-wide sync where the system has one (Linux `syncfs`),
/// which costs far less than a sync per file.
fn stage(
    staging: &Path,
    files: &BTreeMap<PathBuf, String>,
    changed: &[PathBuf],
) -> Result<(), OutputError> {
    let manifest = (PathBuf::from(MANIFEST), manifest_text(files));
    let staged: Vec<(PathBuf, &str)> = changed
        .iter()
        .map(|relative| (flat(staging, relative), files[relative].as_str()))
        .chain([(flat(staging, &manifest.0), manifest.1.as_str())])
        .collect();
    // A thread per 32 files, up to 8: a few files are written faster than threads start.
    const FILES_PER_THREAD: usize = 32;
    const THREADS: usize = 8;
    let threads = staged.len().div_ceil(FILES_PER_THREAD).clamp(1, THREADS);
    let chunk = staged.len().div_ceil(threads).max(1);
    let write = |files: &[(PathBuf, &str)]| {
        files
            .iter()
            .try_for_each(|(path, text)| stage_file(path, text))
    };
    if threads == 1 {
        write(&staged)?;
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = staged
                .chunks(chunk)
                .map(|files| scope.spawn(move || write(files)))
                .collect();
            workers
                .into_iter()
                .try_for_each(|worker| worker.join().expect("staging does not panic"))
        })?;
    }
    sync_filesystem(staging)
}

fn stage_file(path: &Path, text: &str) -> Result<(), OutputError> {
    let mut file = fs::File::create(path).map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))?;
    if path.extension().is_some_and(|ext| ext == "sh") {
        set_executable(path)?;
    }
    if !cfg!(target_os = "linux") {
        file.sync_all().map_err(io(path))?;
    }
    Ok(())
}

/// Makes everything written under `dir` durable: one `syncfs` of its filesystem, which
/// reports a failed write-back of any file written since.
#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &Path) -> Result<(), OutputError> {
    use std::os::fd::AsRawFd;
    let handle = fs::File::open(dir).map_err(io(dir))?;
    // SAFETY: `syncfs` only reads the descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(io(dir)(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Elsewhere each file was synced as it was written.
#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_: &Path) -> Result<(), OutputError> {
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<(), OutputError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(io(path))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<(), OutputError> {
    Ok(())
}

/// One reversible step of a commit.
enum Done {
    /// A directory that did not exist was created.
    CreatedDir(PathBuf),
    /// The file at this relative path was moved into the backup directory.
    MovedAside(PathBuf),
    /// The staged file for this relative path was moved into place.
    Placed(PathBuf),
}

/// Moves the staged files into place. Existing files are first moved aside into a backup
/// directory inside the staging directory; if any step fails, every step taken so far is
/// undone in reverse, so the output directory is as it was before the run.
fn commit(
    root: &Path,
    staging: &Path,
    files: &BTreeMap<PathBuf, String>,
    changed: &[PathBuf],
    previous: &BTreeSet<PathBuf>,
) -> Result<Written, OutputError> {
    let backup = staging.join(".previous");
    let mut done = Vec::new();
    let result = apply(root, staging, &backup, files, changed, previous, &mut done);
    if result.is_err() {
        undo(root, staging, &backup, done);
    }
    result
}

fn apply(
    root: &Path,
    staging: &Path,
    backup: &Path,
    files: &BTreeMap<PathBuf, String>,
    changed: &[PathBuf],
    previous: &BTreeSet<PathBuf>,
    done: &mut Vec<Done>,
) -> Result<Written, OutputError> {
    let mut written = Written::default();
    // Only regular files an earlier run listed are removed: a directory or link that now
    // stands at such a path is not crossgrant's.
    let stale: Vec<PathBuf> = previous
        .iter()
        .filter(|relative| !files.contains_key(*relative))
        .filter(|relative| {
            fs::symlink_metadata(root.join(relative)).is_ok_and(|meta| meta.is_file())
        })
        .cloned()
        .collect();
    for relative in changed {
        create_parents(root, relative, done)?;
    }
    for relative in changed {
        let target = root.join(relative);
        if fs::symlink_metadata(&target).is_ok() {
            move_aside(root, backup, relative, done)?;
        }
        fs::rename(flat(staging, relative), &target).map_err(io(&target))?;
        done.push(Done::Placed(relative.clone()));
        written.updated.push(relative.clone());
    }
    for relative in &stale {
        move_aside(root, backup, relative, done)?;
        written.removed.push(relative.clone());
    }
    let manifest = PathBuf::from(MANIFEST);
    if root.join(&manifest).is_file() {
        move_aside(root, backup, &manifest, done)?;
    }
    let target = root.join(&manifest);
    fs::rename(flat(staging, &manifest), &target).map_err(io(&target))?;
    done.push(Done::Placed(manifest));
    // Committed. Directories emptied by removals go too; a directory holding anything else
    // stays.
    for relative in &stale {
        let mut dir = root.join(relative).parent().map(Path::to_path_buf);
        while let Some(parent) = dir {
            if parent == root || fs::remove_dir(&parent).is_err() {
                break;
            }
            dir = parent.parent().map(Path::to_path_buf);
        }
    }
    Ok(written)
}

/// Creates the missing directories above a file, recording each for undo.
fn create_parents(root: &Path, relative: &Path, done: &mut Vec<Done>) -> Result<(), OutputError> {
    let mut path = root.to_path_buf();
    let Some(parent) = relative.parent() else {
        return Ok(());
    };
    for component in parent.components() {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(OutputError::NotAFile { path }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(&path).map_err(io(&path))?;
                done.push(Done::CreatedDir(path.clone()));
            }
            Err(error) => return Err(io(&path)(error)),
        }
    }
    Ok(())
}

fn move_aside(
    root: &Path,
    backup: &Path,
    relative: &Path,
    done: &mut Vec<Done>,
) -> Result<(), OutputError> {
    // Made on first use: a fresh output moves nothing aside.
    match fs::create_dir(backup) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(io(backup)(error));
        }
        _ => {}
    }
    let target = root.join(relative);
    fs::rename(&target, flat(backup, relative)).map_err(io(&target))?;
    done.push(Done::MovedAside(relative.to_path_buf()));
    Ok(())
}

/// Where a file of the output is kept inside `dir` (the staging or backup directory): under
/// one flat name, so no directories have to be made there. `%` and `/` are escaped, so
/// distinct paths keep distinct names.
fn flat(dir: &Path, relative: &Path) -> PathBuf {
    let name: Vec<String> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().replace('%', "%25"))
        .collect();
    dir.join(name.join("%2F"))
}

/// Reverses the steps of a failed commit, newest first. Best effort: each step only renames
/// within the output directory, which is what just succeeded the other way.
fn undo(root: &Path, staging: &Path, backup: &Path, done: Vec<Done>) {
    for step in done.into_iter().rev() {
        match step {
            Done::Placed(relative) => {
                let _ = fs::rename(root.join(&relative), flat(staging, &relative));
            }
            Done::MovedAside(relative) => {
                let _ = fs::rename(flat(backup, &relative), root.join(&relative));
            }
            Done::CreatedDir(path) => {
                let _ = fs::remove_dir(path);
            }
        }
    }
}
