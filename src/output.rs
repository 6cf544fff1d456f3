//! Writing the output directory safely. A run builds the complete new output in a directory
//! beside the old one (`.<name>.crossgrant-new-<pid>`, on the same filesystem), makes it
//! durable, and then exchanges the two in one rename (Linux `renameat2` with
//! `RENAME_EXCHANGE`), so whatever happens to the process the output directory holds either
//! the whole previous output or the whole new one. Files crossgrant did not write are
//! hard-linked into the new tree, so they survive the exchange as the same files. Where the
//! directory cannot be exchanged (another OS, a mount point, a file that cannot be linked)
//! the changed files are staged inside the output directory and renamed into place one by
//! one, each step undone if a later one fails.
//!
//! A manifest lists the files crossgrant wrote; only those are ever replaced or removed
//! (unless the run is told to take others over), and never through a symbolic link or outside
//! the output directory. Runs on one output directory are serialized by an advisory lock on
//! the directory that holds it, which the kernel releases when a process ends, however it
//! ends; staging directories left by a killed run are removed by the next run and reported by
//! a check.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Component, Path, PathBuf};

pub const MANIFEST: &str = ".crossgrant-manifest";
const MANIFEST_HEADER: &str = "# Files written by crossgrant; it removes only files listed here.";
/// Prefix of the staging directory inside the output, used where it cannot be exchanged.
const STAGING: &str = ".crossgrant-staging-";
/// Infix of the sibling that holds the new tree: `.<name>.crossgrant-new-<pid>`.
const NEW_TREE: &str = ".crossgrant-new-";

#[derive(Debug)]
pub enum OutputError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The lock that serializes runs on one output directory could not be taken.
    Lock {
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
    /// Files stand where crossgrant writes, hold something else, and are not in its manifest.
    Unmanaged { root: PathBuf, paths: Vec<PathBuf> },
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
            OutputError::Lock { path, error } => write!(
                f,
                "cannot lock {} (runs on an output directory hold a lock on the directory that holds it): {error}",
                path.display()
            ),
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
            OutputError::Unmanaged { root, paths } => {
                writeln!(
                    f,
                    "refusing to overwrite {} file{} in {} that crossgrant did not write (not in {MANIFEST}):",
                    paths.len(),
                    if paths.len() == 1 { "" } else { "s" },
                    root.display()
                )?;
                for path in paths {
                    writeln!(f, "  {}", path.display())?;
                }
                write!(
                    f,
                    "move them away, or pass --force to replace them with what crossgrant renders"
                )
            }
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
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(BTreeSet::new()),
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

/// Where the output directory is: its real path (symbolic links resolved), and the directory
/// that holds it, where the new tree is built and the lock is taken.
struct Place {
    dir: PathBuf,
    /// `None` only for the root of the filesystem.
    parent: Option<PathBuf>,
    name: OsString,
}

impl Place {
    /// `None` when not even the directory that would hold the output exists.
    fn find(root: &Path) -> Result<Option<Place>, OutputError> {
        let absolute = std::path::absolute(root).map_err(io(root))?;
        let dir = match fs::symlink_metadata(&absolute) {
            Ok(_) => fs::canonicalize(&absolute).map_err(io(root))?,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                    return Err(io(root)(error));
                };
                match fs::canonicalize(parent) {
                    Ok(parent) => parent.join(name),
                    Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
                    Err(error) => return Err(io(parent)(error)),
                }
            }
            Err(error) => return Err(io(root)(error)),
        };
        Ok(Some(Place {
            parent: dir.parent().map(Path::to_path_buf),
            name: dir.file_name().map(OsString::from).unwrap_or_default(),
            dir,
        }))
    }

    fn lock_dir(&self) -> &Path {
        self.parent.as_deref().unwrap_or(&self.dir)
    }

    fn new_tree_prefix(&self) -> String {
        format!(".{}{NEW_TREE}", self.name.to_string_lossy())
    }

    /// Staging directories an interrupted run left: `.<name>.crossgrant-new-*` beside the
    /// output and `.crossgrant-staging-*` inside it. Called with the lock held, so no live run
    /// owns them.
    fn leftovers(&self) -> Result<Vec<PathBuf>, OutputError> {
        let mut found = Vec::new();
        if let Some(parent) = &self.parent {
            staging_dirs(parent, &self.new_tree_prefix(), &mut found)?;
        }
        staging_dirs(&self.dir, STAGING, &mut found)?;
        found.sort();
        Ok(found)
    }
}

fn staging_dirs(dir: &Path, prefix: &str, found: &mut Vec<PathBuf>) -> Result<(), OutputError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io(dir)(error)),
    };
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && entry.file_name().to_string_lossy().starts_with(prefix) {
            found.push(entry.path());
        }
    }
    Ok(())
}

/// Held while a run reads or replaces the output directory: a `flock` on the directory that
/// holds it. The kernel drops it when the descriptor closes, so a killed run leaves no stale
/// lock.
struct Lock {
    #[cfg(unix)]
    _held: fs::File,
    #[cfg(not(unix))]
    _held: Option<fs::File>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LockMode {
    /// Checks read; any number at once.
    Shared,
    /// A write; alone.
    Exclusive,
}

impl Lock {
    #[cfg(unix)]
    fn take(dir: &Path, mode: LockMode, waiting: &mut dyn FnMut()) -> Result<Lock, OutputError> {
        use std::os::fd::AsRawFd;
        let failed = |error| OutputError::Lock {
            path: dir.to_path_buf(),
            error,
        };
        let held = fs::File::open(dir).map_err(failed)?;
        let operation = match mode {
            LockMode::Shared => libc::LOCK_SH,
            LockMode::Exclusive => libc::LOCK_EX,
        };
        let flock = |operation| loop {
            // SAFETY: `flock` only acts on the descriptor, which `held` keeps open for the call.
            if unsafe { libc::flock(held.as_raw_fd(), operation) } == 0 {
                return Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != ErrorKind::Interrupted {
                return Err(error);
            }
        };
        match flock(operation | libc::LOCK_NB) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                waiting();
                flock(operation).map_err(failed)?;
            }
            Err(error) => return Err(failed(error)),
        }
        Ok(Lock { _held: held })
    }

    /// No advisory lock here: runs on one directory are not serialized.
    #[cfg(not(unix))]
    fn take(_: &Path, _: LockMode, _: &mut dyn FnMut()) -> Result<Lock, OutputError> {
        Ok(Lock { _held: None })
    }
}

/// How a file on disk differs from what the scenario renders to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drift {
    Missing(PathBuf),
    Changed(PathBuf),
    /// Written by an earlier run, no longer rendered: a write would delete it.
    Stale(PathBuf),
    /// A staging directory of an interrupted run (full path): the next write removes it.
    Leftover(PathBuf),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(path) => write!(f, "missing: {}", path.display()),
            Drift::Changed(path) => write!(f, "changed: {}", path.display()),
            Drift::Stale(path) => write!(f, "stale:   {}", path.display()),
            Drift::Leftover(path) => write!(
                f,
                "leftover of an interrupted run: {} (the next synth removes it)",
                path.display()
            ),
        }
    }
}

/// What differs between the output directory and `files`, without writing anything. Waits
/// for a write in progress on the same directory, so it never sees half of one.
pub fn check(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Vec<Drift>, OutputError> {
    for relative in files.keys() {
        contained(relative)?;
    }
    let place = Place::find(root)?;
    let _lock = match &place {
        Some(place) => Some(Lock::take(place.lock_dir(), LockMode::Shared, &mut || {})?),
        None => None,
    };
    let root = place.as_ref().map_or(root, |place| place.dir.as_path());
    let mut drift = Vec::new();
    for (relative, text) in files {
        let path = root.join(relative);
        match fs::read(&path) {
            Ok(bytes) if bytes == text.as_bytes() => {}
            Ok(_) => drift.push(Drift::Changed(relative.clone())),
            Err(error) if error.kind() == ErrorKind::NotFound => {
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
    if let Some(place) = &place {
        drift.extend(place.leftovers()?.into_iter().map(Drift::Leftover));
    }
    Ok(drift)
}

/// How a write treats files in its way.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Replace files at paths crossgrant writes although its manifest does not list them.
    pub force: bool,
}

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub updated: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    /// Files at rendered paths that the manifest did not list, now crossgrant's.
    pub adopted: Vec<PathBuf>,
    /// Staging directories of interrupted runs that were removed (full paths).
    pub cleaned: Vec<PathBuf>,
}

/// [`write_with`] with the default options, never telling anyone it waits.
pub fn write(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Written, OutputError> {
    write_with(root, files, WriteOptions::default(), &mut || {})
}

/// Writes `files` under `root`, removes files an earlier run wrote that are no longer
/// rendered, and records the new manifest. Either every change lands or, on any error, the
/// output directory is left as it was. `waiting` is called once if another run holds the
/// output directory; this one then waits for it to finish.
pub fn write_with(
    root: &Path,
    files: &BTreeMap<PathBuf, String>,
    options: WriteOptions,
    waiting: &mut dyn FnMut(),
) -> Result<Written, OutputError> {
    for relative in files.keys() {
        contained(relative)?;
    }
    let absolute = std::path::absolute(root).map_err(io(root))?;
    if let Some(parent) = absolute.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let Some(place) = Place::find(&absolute)? else {
        return Err(io(root)(ErrorKind::NotFound.into()));
    };
    let _lock = Lock::take(place.lock_dir(), LockMode::Exclusive, waiting)?;
    let mut written = Written::default();
    for leftover in place.leftovers()? {
        fs::remove_dir_all(&leftover).map_err(io(&leftover))?;
        written.cleaned.push(leftover);
    }
    let dir = place.dir.as_path();
    for relative in files.keys() {
        no_symlinks(dir, relative)?;
    }
    let previous = read_manifest(dir)?;
    for relative in &previous {
        no_symlinks(dir, relative)?;
    }
    let (changed, unchanged) = classify(dir, files)?;
    written.adopted = files
        .keys()
        .filter(|relative| !previous.contains(*relative) && dir.join(relative).is_file())
        .cloned()
        .collect();
    let overwritten: Vec<PathBuf> = written
        .adopted
        .iter()
        .filter(|relative| changed.contains(relative))
        .cloned()
        .collect();
    if !overwritten.is_empty() && !options.force {
        return Err(OutputError::Unmanaged {
            root: root.to_path_buf(),
            paths: overwritten,
        });
    }
    written.unchanged = unchanged;
    // Nothing to change: nothing is staged, synced or moved.
    let up_to_date = changed.is_empty()
        && previous.iter().all(|relative| files.contains_key(relative))
        && fs::read_to_string(dir.join(MANIFEST)).is_ok_and(|text| text == manifest_text(files));
    if up_to_date {
        return Ok(written);
    }
    let stale = stale(dir, files, &previous);
    match replace_whole(&place, files, &changed, &stale) {
        Ok(()) => {
            written.updated = changed;
            written.removed = stale;
            return Ok(written);
        }
        Err(error) if !in_place_may_work(&error) => return Err(error),
        Err(_) => {}
    }
    let staging_name = PathBuf::from(format!("{STAGING}{}", std::process::id()));
    let staging = dir.join(&staging_name);
    fs::create_dir(&staging).map_err(io(&staging))?;
    let staged = stage(&staging, files, &changed);
    let result = staged.and_then(|()| commit(dir, &staging, &changed, &stale));
    let _ = fs::remove_dir_all(&staging);
    result?;
    written.updated = changed;
    written.removed = stale;
    Ok(written)
}

/// Files an earlier run wrote that are no longer rendered. Only regular files: a directory
/// or link that now stands at such a path is not crossgrant's.
fn stale(
    root: &Path,
    files: &BTreeMap<PathBuf, String>,
    previous: &BTreeSet<PathBuf>,
) -> Vec<PathBuf> {
    previous
        .iter()
        .filter(|relative| !files.contains_key(*relative))
        .filter(|relative| {
            fs::symlink_metadata(root.join(relative)).is_ok_and(|meta| meta.is_file())
        })
        .cloned()
        .collect()
}

/// Whether a failure to build or exchange the new tree says only that this directory cannot
/// be replaced whole (another filesystem or mount inside it, a file that may not be linked,
/// no exchange on this system), so that replacing the files one by one may still work.
fn in_place_may_work(error: &OutputError) -> bool {
    let OutputError::Io { error, .. } = error else {
        return false;
    };
    matches!(
        error.kind(),
        ErrorKind::CrossesDevices
            | ErrorKind::PermissionDenied
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::Unsupported
            | ErrorKind::InvalidInput
            | ErrorKind::ResourceBusy
            | ErrorKind::TooManyLinks
    )
}

/// Builds the complete new output beside the old one and puts it in the old one's place in
/// one rename. Before that rename nothing in the output directory has changed; after it the
/// old tree is removed (if the process dies first, the next run removes it).
fn replace_whole(
    place: &Place,
    files: &BTreeMap<PathBuf, String>,
    changed: &[PathBuf],
    stale: &[PathBuf],
) -> Result<(), OutputError> {
    let Some(parent) = &place.parent else {
        return Err(io(&place.dir)(ErrorKind::Unsupported.into()));
    };
    let exists = fs::symlink_metadata(&place.dir).is_ok();
    if exists && !cfg!(target_os = "linux") {
        return Err(io(&place.dir)(ErrorKind::Unsupported.into()));
    }
    let name = OsString::from(format!("{}{}", place.new_tree_prefix(), std::process::id()));
    let new = parent.join(&name);
    fs::create_dir(&new).map_err(io(&new))?;
    let built = build(
        &new,
        exists.then_some(place.dir.as_path()),
        files,
        changed,
        stale,
    );
    let swapped = built.and_then(|()| {
        if exists {
            exchange(parent, &name, &place.name)
        } else {
            rename_new(parent, &name, &place.name)
        }
        .map_err(io(&place.dir))
    });
    // After an exchange this is the old tree; after a failure, the unused new one.
    let _ = fs::remove_dir_all(&new);
    swapped
}

/// Fills `new` with the whole output: every file of `old` that crossgrant did not write,
/// hard-linked (the same file, not a copy), the rendered files (linked where unchanged,
/// written where changed) and the manifest; then makes it durable.
fn build(
    new: &Path,
    old: Option<&Path>,
    files: &BTreeMap<PathBuf, String>,
    changed: &[PathBuf],
    stale: &[PathBuf],
) -> Result<(), OutputError> {
    let mut tree = NewTree {
        new,
        old,
        made: BTreeSet::new(),
        modes: Vec::new(),
    };
    tree.made.insert(PathBuf::new());
    if let Some(old) = old {
        let meta = fs::metadata(old).map_err(io(old))?;
        tree.modes.push((new.to_path_buf(), meta.permissions()));
        let skip: BTreeSet<&Path> = files
            .keys()
            .map(PathBuf::as_path)
            .chain(stale.iter().map(PathBuf::as_path))
            .chain([Path::new(MANIFEST)])
            .collect();
        tree.carry_over(Path::new(""), &skip)?;
    }
    let manifest = manifest_text(files);
    let mut fresh: Vec<(PathBuf, &str)> = Vec::new();
    let changed: BTreeSet<&PathBuf> = changed.iter().collect();
    for (relative, text) in files {
        if let Some(parent) = relative.parent() {
            tree.make_dirs(parent)?;
        }
        let target = new.join(relative);
        match old {
            Some(old) if !changed.contains(relative) => {
                let source = old.join(relative);
                fs::hard_link(&source, &target).map_err(io(&source))?;
            }
            _ => fresh.push((target, text)),
        }
    }
    fresh.push((new.join(MANIFEST), &manifest));
    write_files(&fresh)?;
    // Last, so a directory the user made read-only is filled first.
    for (dir, permissions) in tree.modes.iter().rev() {
        fs::set_permissions(dir, permissions.clone()).map_err(io(dir))?;
    }
    sync_filesystem(new)
}

/// The new tree while it is built.
struct NewTree<'a> {
    new: &'a Path,
    old: Option<&'a Path>,
    /// Directories made so far, relative (the root is `""`).
    made: BTreeSet<PathBuf>,
    /// Permissions of the old tree's directories, applied once the new tree is filled.
    modes: Vec<(PathBuf, fs::Permissions)>,
}

impl NewTree<'_> {
    /// Links every entry below `relative` in the old tree that is not in `skip` into the new
    /// tree. A directory is made if something goes into it or it was empty: a directory that
    /// held only files crossgrant removes goes with them.
    fn carry_over(&mut self, relative: &Path, skip: &BTreeSet<&Path>) -> Result<(), OutputError> {
        let Some(old) = self.old else {
            return Ok(());
        };
        let dir = old.join(relative);
        let mut empty = true;
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            empty = false;
            let entry = entry.map_err(io(&dir))?;
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            if kind.is_dir() {
                self.carry_over(&path, skip)?;
            } else if !skip.contains(path.as_path()) {
                self.make_dirs(relative)?;
                let source = old.join(&path);
                fs::hard_link(&source, self.new.join(&path)).map_err(io(&source))?;
            }
        }
        if empty {
            self.make_dirs(relative)?;
        }
        Ok(())
    }

    /// Makes `relative` and the directories above it, each with the permissions it had in the
    /// old tree.
    fn make_dirs(&mut self, relative: &Path) -> Result<(), OutputError> {
        if self.made.contains(relative) {
            return Ok(());
        }
        if let Some(parent) = relative.parent() {
            self.make_dirs(parent)?;
        }
        let path = self.new.join(relative);
        fs::create_dir(&path).map_err(io(&path))?;
        if let Some(meta) = self
            .old
            .and_then(|old| fs::symlink_metadata(old.join(relative)).ok())
            .filter(fs::Metadata::is_dir)
        {
            self.modes.push((path, meta.permissions()));
        }
        self.made.insert(relative.to_path_buf());
        Ok(())
    }
}

/// Exchanges two entries of `parent` in one step: Linux `renameat2(RENAME_EXCHANGE)`. The
/// directory itself is synced afterwards, so the exchange is durable when this returns.
#[cfg(target_os = "linux")]
fn exchange(parent: &Path, a: &std::ffi::OsStr, b: &std::ffi::OsStr) -> std::io::Result<()> {
    renameat2(parent, a, b, libc::RENAME_EXCHANGE)
}

/// Moves `from` to `to` within `parent`, failing if `to` exists (even as an empty directory,
/// which a plain rename would replace).
#[cfg(target_os = "linux")]
fn rename_new(parent: &Path, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> std::io::Result<()> {
    renameat2(parent, from, to, libc::RENAME_NOREPLACE)
}

#[cfg(target_os = "linux")]
fn renameat2(
    parent: &Path,
    from: &std::ffi::OsStr,
    to: &std::ffi::OsStr,
    flags: libc::c_uint,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let handle = fs::File::open(parent)?;
    let from = std::ffi::CString::new(from.as_bytes())?;
    let to = std::ffi::CString::new(to.as_bytes())?;
    let fd = handle.as_raw_fd();
    // SAFETY: both names are NUL-terminated and outlive the call; `handle` keeps the
    // descriptor open. The raw system call is used so that no particular C library version
    // is needed.
    let result = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            fd,
            from.as_ptr(),
            fd,
            to.as_ptr(),
            flags,
        )
    };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    handle.sync_all()
}

/// Not reached: elsewhere an existing output is replaced file by file.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &std::ffi::OsStr, _: &std::ffi::OsStr) -> std::io::Result<()> {
    Err(ErrorKind::Unsupported.into())
}

#[cfg(not(target_os = "linux"))]
fn rename_new(parent: &Path, from: &std::ffi::OsStr, to: &std::ffi::OsStr) -> std::io::Result<()> {
    if fs::symlink_metadata(parent.join(to)).is_ok() {
        return Err(ErrorKind::AlreadyExists.into());
    }
    fs::rename(parent.join(from), parent.join(to))?;
    #[cfg(unix)]
    fs::File::open(parent)?.sync_all()?;
    Ok(())
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

/// Writes the changed files and the new manifest into the staging directory inside the
/// output, each under one flat name, and makes them durable.
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
    write_files(&staged)?;
    sync_filesystem(staging)
}

/// Writes files (their directories exist) from a few threads at once. They are made durable
/// with one filesystem-wide sync afterwards where the system has one (Linux `syncfs`), which
/// costs far less than a sync per file.
fn write_files(files: &[(PathBuf, &str)]) -> Result<(), OutputError> {
    // A thread per 32 files, up to 8: a few files are written faster than threads start.
    const FILES_PER_THREAD: usize = 32;
    const THREADS: usize = 8;
    let threads = files.len().div_ceil(FILES_PER_THREAD).clamp(1, THREADS);
    let chunk = files.len().div_ceil(threads).max(1);
    let write = |files: &[(PathBuf, &str)]| {
        files
            .iter()
            .try_for_each(|(path, text)| stage_file(path, text))
    };
    if threads == 1 {
        return write(files);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|files| scope.spawn(move || write(files)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("staging does not panic"))
    })
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

/// Moves the staged files into place and the stale ones aside. Existing files are first
/// moved aside into a backup directory inside the staging directory; if any step fails, every
/// step taken so far is undone in reverse, so the output directory is as it was before the
/// run.
fn commit(
    root: &Path,
    staging: &Path,
    changed: &[PathBuf],
    stale: &[PathBuf],
) -> Result<(), OutputError> {
    let backup = staging.join(".previous");
    let mut done = Vec::new();
    let result = apply(root, staging, &backup, changed, stale, &mut done);
    if result.is_err() {
        undo(root, staging, &backup, done);
    }
    result
}

fn apply(
    root: &Path,
    staging: &Path,
    backup: &Path,
    changed: &[PathBuf],
    stale: &[PathBuf],
    done: &mut Vec<Done>,
) -> Result<(), OutputError> {
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
    }
    for relative in stale {
        move_aside(root, backup, relative, done)?;
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
    for relative in stale {
        let mut dir = root.join(relative).parent().map(Path::to_path_buf);
        while let Some(parent) = dir {
            if parent == root || fs::remove_dir(&parent).is_err() {
                break;
            }
            dir = parent.parent().map(Path::to_path_buf);
        }
    }
    Ok(())
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
