//! Output is never lost: running the real binary, a run that fails — bad scenario, broken
//! template override, a file where a directory must go, a read-only or full file system —
//! leaves the previous output byte for byte as it was; files crossgrant did not write are
//! never removed, whatever the manifest says; paths that leave `--out` are refused.
//!
//! The read-only and full-disk cases mount a bind mount and a tiny tmpfs, which needs root
//! (as in CI); run as another user they say so and do nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::snapshot;
use crate::common::synth_output as synth;

const BLOG: &str = include_str!("../../examples/blog.toml");

/// The blog scenario with the grant narrowed: every stack renders differently from `BLOG`.
fn blog_v2() -> String {
    BLOG.replace(r#"access = "read-write""#, r#"access = "read""#)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("v1.toml"), BLOG).unwrap();
        fs::write(dir.path().join("v2.toml"), blog_v2()).unwrap();
        Fixture { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `out/` holding what v1 renders to.
    fn previous_output(&self, extra: &[&str]) -> PathBuf {
        let out = self.path("out");
        let run = synth(&self.path("v1.toml"), &out, extra);
        assert!(run.status.success(), "{}", stderr(&run));
        out
    }
}

fn assert_failed_and_intact(run: &Output, out: &Path, before: &BTreeMap<PathBuf, String>) {
    assert_eq!(run.status.code(), Some(2), "stderr: {}", stderr(run));
    assert_eq!(
        &snapshot(out),
        before,
        "the failed run changed the previous output"
    );
}

#[test]
fn an_invalid_scenario_leaves_the_previous_output_intact() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    let before = snapshot(&out);
    let broken = fixture.path("broken.toml");
    fs::write(&broken, blog_v2().replace("111111111111", "1111")).unwrap();
    let run = synth(&broken, &out, &[]);
    assert_failed_and_intact(&run, &out, &before);
    assert!(stderr(&run).contains("not 12 digits"));
}

#[test]
fn a_template_that_fails_to_render_leaves_the_previous_output_intact() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    let before = snapshot(&out);
    // Terraform renders after CloudFormation: a failure there comes after other files
    // were rendered.
    let templates = fixture.path("templates");
    fs::create_dir_all(templates.join("terraform")).unwrap();
    fs::write(
        templates.join("terraform/main.tf.hbs"),
        "{{no_such_field}}\n",
    )
    .unwrap();
    let run = synth(
        &fixture.path("v2.toml"),
        &out,
        &["--templates", templates.to_str().unwrap()],
    );
    assert_failed_and_intact(&run, &out, &before);
    assert!(
        stderr(&run).contains("terraform/main.tf"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn a_template_that_renders_invalid_yaml_leaves_the_previous_output_intact() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    let before = snapshot(&out);
    let templates = fixture.path("templates");
    fs::create_dir_all(templates.join("cloudformation")).unwrap();
    fs::write(
        templates.join("cloudformation/stack.yaml.hbs"),
        "Resources: [unclosed\n",
    )
    .unwrap();
    let run = synth(
        &fixture.path("v2.toml"),
        &out,
        &["--templates", templates.to_str().unwrap()],
    );
    assert_failed_and_intact(&run, &out, &before);
    assert!(stderr(&run).contains("invalid YAML"), "{}", stderr(&run));
}

/// A regular file where crossgrant must create a directory: the run fails before any file
/// changes, although the files that sort before it could have been written.
#[test]
fn a_file_in_the_way_of_a_directory_fails_the_run_before_anything_changes() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&["--target", "cloudformation"]);
    fs::write(out.join("terraform"), "the user's notes\n").unwrap();
    let before = snapshot(&out);
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert_failed_and_intact(&run, &out, &before);
    assert!(stderr(&run).contains("Not a directory"), "{}", stderr(&run));
}

#[test]
fn a_directory_in_the_way_of_a_file_fails_the_run_before_anything_changes() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    fs::remove_file(out.join("terraform/main.tf")).unwrap();
    fs::create_dir(out.join("terraform/main.tf")).unwrap();
    fs::write(out.join("terraform/main.tf/keep"), "mine\n").unwrap();
    let before = snapshot(&out);
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert_failed_and_intact(&run, &out, &before);
}

#[test]
fn an_output_path_below_a_regular_file_is_an_error() {
    let fixture = Fixture::new();
    let file = fixture.path("plain-file");
    fs::write(&file, "data\n").unwrap();
    let run = synth(&fixture.path("v1.toml"), &file.join("out"), &[]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(fs::read_to_string(&file).unwrap(), "data\n");
    assert!(stderr(&run).contains("left as it was"), "{}", stderr(&run));
}

#[test]
fn files_crossgrant_did_not_write_are_never_removed() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    fs::write(out.join("NOTES.md"), "mine\n").unwrap();
    fs::write(out.join("terraform/backend.tf"), "# mine\n").unwrap();
    // Terraform only: every CloudFormation file of v1 is now stale and removed.
    let run = synth(&fixture.path("v1.toml"), &out, &["--target", "terraform"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!out.join("cloudformation/deploy.sh").exists());
    assert_eq!(fs::read_to_string(out.join("NOTES.md")).unwrap(), "mine\n");
    assert_eq!(
        fs::read_to_string(out.join("terraform/backend.tf")).unwrap(),
        "# mine\n"
    );
}

/// A manifest that names a directory (edited, or a generated file later replaced by a
/// directory of the user's) removes nothing in it.
#[test]
fn a_manifest_entry_that_is_now_a_directory_is_left_alone() {
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    fs::create_dir(out.join("mine")).unwrap();
    fs::write(out.join("mine/data.txt"), "mine\n").unwrap();
    let manifest = out.join(".crossgrant-manifest");
    let mut text = fs::read_to_string(&manifest).unwrap();
    text.push_str("mine\n");
    fs::write(&manifest, text).unwrap();
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        fs::read_to_string(out.join("mine/data.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn a_manifest_edited_to_point_outside_the_output_is_refused() {
    for entry in ["../victim", "ABSOLUTE", "terraform/../../victim"] {
        let fixture = Fixture::new();
        let out = fixture.previous_output(&[]);
        let victim = fixture.path("victim");
        fs::write(&victim, "precious\n").unwrap();
        let entry = entry.replace("ABSOLUTE", victim.to_str().unwrap());
        let manifest = out.join(".crossgrant-manifest");
        let mut text = fs::read_to_string(&manifest).unwrap();
        text.push_str(&format!("{entry}\n"));
        fs::write(&manifest, text).unwrap();
        let before = snapshot(&out);
        // v2 drops nothing, v1 target terraform drops every CloudFormation file: both must
        // refuse before touching anything.
        for extra in [&[][..], &["--target", "terraform"][..]] {
            let run = synth(&fixture.path("v2.toml"), &out, extra);
            assert_failed_and_intact(&run, &out, &before);
            assert!(
                stderr(&run).contains("outside the output directory"),
                "{entry}: {}",
                stderr(&run)
            );
            assert_eq!(
                fs::read_to_string(&victim).unwrap(),
                "precious\n",
                "{entry}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_inside_the_output_are_never_written_through() {
    use std::os::unix::fs::symlink;
    let fixture = Fixture::new();
    let elsewhere = fixture.path("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("keep"), "keep\n").unwrap();
    let victim = fixture.path("victim.md");
    fs::write(&victim, "precious\n").unwrap();

    // A linked directory.
    let out = fixture.previous_output(&[]);
    fs::remove_dir_all(out.join("cloudformation")).unwrap();
    symlink(&elsewhere, out.join("cloudformation")).unwrap();
    let before = snapshot(&out);
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert_failed_and_intact(&run, &out, &before);
    assert!(stderr(&run).contains("symbolic link"), "{}", stderr(&run));
    assert_eq!(snapshot(&elsewhere).len(), 1);

    // A linked file that the manifest lists as stale.
    fs::remove_file(out.join("cloudformation")).unwrap();
    let run = synth(&fixture.path("v1.toml"), &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    fs::remove_file(out.join("ACCESS.md")).unwrap();
    symlink(&victim, out.join("ACCESS.md")).unwrap();
    let before = snapshot(&out);
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert_failed_and_intact(&run, &out, &before);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// Mounts for the lifetime of the guard (needs root).
struct Mount {
    target: PathBuf,
}

impl Mount {
    fn run(args: &[&str]) -> bool {
        Command::new("mount")
            .args(args)
            .status()
            .is_ok_and(|status| status.success())
    }

    fn tmpfs(target: &Path, size: &str) -> Option<Mount> {
        let options = format!("size={size}");
        Mount::run(&["-t", "tmpfs", "-o", &options, "tmpfs", target.to_str()?]).then(|| Mount {
            target: target.to_path_buf(),
        })
    }

    fn read_only_bind(source: &Path, target: &Path) -> Option<Mount> {
        if !Mount::run(&["--bind", source.to_str()?, target.to_str()?]) {
            return None;
        }
        let mount = Mount {
            target: target.to_path_buf(),
        };
        Mount::run(&["-o", "remount,bind,ro", target.to_str()?]).then_some(mount)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.target).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Needs root; as any other user the mount tests say so and pass without mounting.
fn can_mount(test: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("{test}: not root, cannot mount; skipped");
    false
}

#[test]
fn a_read_only_output_directory_leaves_the_previous_output_intact() {
    if !can_mount("read-only") {
        return;
    }
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    let before = snapshot(&out);
    let mount = Mount::read_only_bind(&out, &out).expect("root can bind-mount read-only");
    let run = synth(&fixture.path("v2.toml"), &out, &[]);
    assert!(
        stderr(&run).contains("Read-only file system"),
        "{}",
        stderr(&run)
    );
    drop(mount);
    assert_failed_and_intact(&run, &out, &before);
}

#[test]
fn a_full_disk_leaves_the_previous_output_intact() {
    if !can_mount("full disk") {
        return;
    }
    let fixture = Fixture::new();
    let disk = fixture.path("disk");
    fs::create_dir(&disk).unwrap();
    let _mount = Mount::tmpfs(&disk, "256k").expect("root can mount a tmpfs");
    let out = disk.join("out");
    let run = synth(
        &fixture.path("v1.toml"),
        &out,
        &["--target", "cloudformation"],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    // Fill the disk, then free a little: less than a new copy of the output needs.
    let filler = disk.join("filler");
    {
        use std::io::Write;
        let mut file = fs::File::create(&filler).unwrap();
        let block = vec![b'x'; 4096];
        while file
            .write_all(&block)
            .and_then(|()| file.sync_all())
            .is_ok()
        {}
    }
    let full = fs::metadata(&filler).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(full.saturating_sub(8192))
        .unwrap();
    let before = snapshot(&out);
    let run = synth(
        &fixture.path("v2.toml"),
        &out,
        &["--target", "cloudformation"],
    );
    assert!(
        stderr(&run).contains("No space left on device"),
        "{}",
        stderr(&run)
    );
    assert_failed_and_intact(&run, &out, &before);
    // With room again, the same run succeeds.
    fs::remove_file(&filler).unwrap();
    let run = synth(
        &fixture.path("v2.toml"),
        &out,
        &["--target", "cloudformation"],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert_ne!(snapshot(&out), before);
}

/// A run that renders exactly what is on disk touches nothing: no file is staged, synced or
/// replaced, the manifest included (an earlier version replaced it on every run).
#[cfg(unix)]
#[test]
fn an_up_to_date_output_is_left_untouched() {
    use std::os::unix::fs::MetadataExt;
    let fixture = Fixture::new();
    let out = fixture.previous_output(&[]);
    let before = snapshot(&out);
    let identity = |path: &Path| {
        let meta = fs::metadata(path).unwrap();
        (meta.ino(), meta.modified().unwrap())
    };
    let manifest = out.join(".crossgrant-manifest");
    let stack = out.join("cloudformation/data-data.yaml");
    let (manifest_before, stack_before) = (identity(&manifest), identity(&stack));
    let run = synth(&fixture.path("v1.toml"), &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("0 updated"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert_eq!(snapshot(&out), before);
    assert_eq!(identity(&manifest), manifest_before);
    assert_eq!(identity(&stack), stack_before);
}
