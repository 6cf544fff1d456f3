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
/// rendered, and records the new manifest.
pub fn write(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Written, OutputError> {
    for relative in files.keys() {
        contained(relative)?;
        no_symlinks(root, relative)?;
    }
    let previous = read_manifest(root)?;
    for relative in &previous {
        no_symlinks(root, relative)?;
    }
    fs::create_dir_all(root).map_err(io(root))?;
    let staging = root.join(format!("{STAGING}-{}", std::process::id()));
    let staged = stage(&staging, files);
    let result = staged.and_then(|()| commit(root, &staging, files, &previous));
    // The staging directory only ever holds crossgrant's own temporary copies.
    let _ = fs::remove_dir_all(&staging);
    result
}

fn stage(staging: &Path, files: &BTreeMap<PathBuf, String>) -> Result<(), OutputError> {
    let mut all = files.clone();
    all.insert(PathBuf::from(MANIFEST), manifest_text(files));
    for (relative, text) in &all {
        let path = staging.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut file = fs::File::create(&path).map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        if relative.extension().is_some_and(|ext| ext == "sh") {
            set_executable(&path)?;
        }
    }
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

fn commit(
    root: &Path,
    staging: &Path,
    files: &BTreeMap<PathBuf, String>,
    previous: &BTreeSet<PathBuf>,
) -> Result<Written, OutputError> {
    let mut written = Written::default();
    for (relative, text) in files {
        let target = root.join(relative);
        if fs::read(&target).is_ok_and(|bytes| bytes == text.as_bytes()) {
            written.unchanged.push(relative.clone());
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fs::rename(staging.join(relative), &target).map_err(io(&target))?;
        written.updated.push(relative.clone());
    }
    for relative in previous {
        if files.contains_key(relative) {
            continue;
        }
        let target = root.join(relative);
        match fs::remove_file(&target) {
            Ok(()) => written.removed.push(relative.clone()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(&target)(error)),
        }
        // Directories emptied by the removal go too; a directory holding anything else stays.
        let mut dir = target.parent();
        while let Some(parent) = dir {
            if parent == root || fs::remove_dir(parent).is_err() {
                break;
            }
            dir = parent.parent();
        }
    }
    let manifest = root.join(MANIFEST);
    fs::rename(staging.join(MANIFEST), &manifest).map_err(io(&manifest))?;
    Ok(written)
}
