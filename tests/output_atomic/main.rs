//! The output directory holds one run's complete output at every moment: running the real
//! binary, a `synth` killed at random moments (SIGKILL, SIGTERM, SIGINT) leaves the directory
//! exactly as it was or exactly as the run would have left it, compared by content hash,
//! with the user's files (a README, `.terraform/`, `terraform.tfstate`) intact and the same
//! files; the next run completes and leaves no staging directory behind. Runs started
//! together on one directory take turns, so the result is one scenario's output byte for
//! byte. A file crossgrant did not write is never overwritten without `--force`, and the
//! user's files survive every run and every switch of `--target`.
#![cfg(unix)]

#[path = "../common/mod.rs"]
mod common;

use common::*;
use crossgrant::generate::{scenario, Shape};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Paths where `actual` differs from `expected`, for a failure message.
fn differences(
    actual: &BTreeMap<PathBuf, String>,
    expected: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut paths: Vec<&PathBuf> = actual.keys().chain(expected.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| actual.get(*path) != expected.get(*path))
        .map(|path| {
            format!(
                "{}: {:?} (expected {:?})",
                path.display(),
                actual.get(path),
                expected.get(path)
            )
        })
        .collect()
}

/// Staging directories of crossgrant's beside or inside `out`.
fn leftovers(out: &Path) -> Vec<PathBuf> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    let beside = format!(".{name}.crossgrant-new-");
    let mut found = Vec::new();
    for (dir, prefix) in [
        (out.parent().unwrap(), beside.as_str()),
        (out, ".crossgrant-staging-"),
    ] {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                found.push(entry.path());
            }
        }
    }
    found
}

/// Files of the user's own in an output directory: what must survive every run.
const USER_FILES: [(&str, &str); 6] = [
    ("README.md", "# Our deployment notes\n"),
    ("terraform/terraform.tfstate", "{\"version\": 4, \"serial\": 7}\n"),
    ("terraform/terraform.tfstate.backup", "{\"version\": 4, \"serial\": 6}\n"),
    ("terraform/.terraform/terraform.tfstate", "{\"backend\": {}}\n"),
    ("terraform/.terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws", "\x7fELF provider binary\n"),
    ("cloudformation/notes.txt", "parameters we pass by hand\n"),
];

fn place_user_files(out: &Path) {
    for (path, text) in USER_FILES {
        let path = out.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }
    let provider = out.join(USER_FILES[4].0);
    fs::set_permissions(&provider, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(
        "providers/registry.terraform.io",
        out.join("terraform/.terraform/registry"),
    )
    .unwrap();
    fs::create_dir_all(out.join("terraform/.terraform/modules")).unwrap();
}

/// The inode of every user file: carried over, not copied.
fn user_file_identities(out: &Path) -> Vec<(String, u64, Vec<u8>)> {
    USER_FILES
        .iter()
        .map(|(path, _)| {
            let path = out.join(path);
            (
                path.display().to_string(),
                fs::metadata(&path).unwrap().ino(),
                fs::read(&path).unwrap(),
            )
        })
        .collect()
}

/// What `scenario` renders to in a fresh directory holding the user's files.
fn expected_tree(dir: &Path, name: &str, scenario: &Path) -> BTreeMap<PathBuf, String> {
    let out = dir.join(name);
    place_user_files(&out);
    synth(scenario, &out, &[]);
    let tree = snapshot(&out);
    fs::remove_dir_all(&out).unwrap();
    tree
}

/// How long a run into `out` takes until its staging directory appears, and in all.
fn measure(scenario: &Path, out: &Path) -> (Duration, Duration) {
    let clock = Instant::now();
    let mut child = spawn_synth(scenario, out, Stdio::null());
    let mut writing = None;
    loop {
        if writing.is_none() && !leftovers(out).is_empty() {
            writing = Some(clock.elapsed());
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            let total = clock.elapsed();
            return (writing.unwrap_or(total / 2), total);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn spawn_synth(scenario: &Path, out: &Path, stderr: Stdio) -> Child {
    command()
        .args([
            "synth",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("the crossgrant binary runs")
}

fn signal(child: &mut Child, name: &str) {
    if name == "KILL" {
        let _ = child.kill();
    } else {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status();
    }
}

/// SplitMix64, seeded from the clock (or `CROSSGRANT_KILL_SEED`) and printed, so a failing
/// schedule can be replayed.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let seed = std::env::var("CROSSGRANT_KILL_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("kill schedule: CROSSGRANT_KILL_SEED={seed}");
        Random(seed)
    }

    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A scratch directory in memory where there is one (`/dev/shm`): a kill tests what a dying
/// process leaves, not the disk, and on a busy disk every run would take seconds.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    match shm.is_dir() {
        true => tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir()),
        false => tempfile::tempdir(),
    }
    .unwrap()
}

/// About 2,000 files in a few hundred directories; `accounts` changes which files there are.
fn large(seed: u64, accounts: usize) -> Shape {
    Shape {
        seed,
        buckets: 40,
        accounts,
        roles: 800,
        grants: 1600,
        team_size: 2,
        declare_paths: true,
        organization: true,
        ..Shape::default()
    }
}

/// Kills of a run that replaces an existing output, then of runs that create it.
const REPLACING_KILLS: usize = 36;
const CREATING_KILLS: usize = 9;
const SIGNALS: [&str; 3] = ["KILL", "TERM", "INT"];

#[test]
fn a_run_killed_at_any_moment_leaves_the_old_or_the_new_output() {
    let started = Instant::now();
    let dir = scratch();
    let scenarios = [dir.path().join("a.toml"), dir.path().join("b.toml")];
    fs::write(&scenarios[0], scenario(&large(1, 400)).0).unwrap();
    fs::write(&scenarios[1], scenario(&large(2, 380)).0).unwrap();
    let trees = [
        expected_tree(dir.path(), "expect-a", &scenarios[0]),
        expected_tree(dir.path(), "expect-b", &scenarios[1]),
    ];
    assert!(trees[0].len() > 2000, "{} entries", trees[0].len());
    let differing = differences(&trees[0], &trees[1]).len();
    assert!(differing > 1000, "only {differing} entries differ");

    let out = dir.path().join("out");
    place_user_files(&out);
    synth(&scenarios[0], &out, &[]);
    assert_eq!(snapshot(&out), trees[0]);
    let user_files = user_file_identities(&out);
    let (writing_from_b, run_to_b) = measure(&scenarios[1], &out);
    let (writing_from_a, run_to_a) = measure(&scenarios[0], &out);
    let run = (run_to_a + run_to_b) / 2;
    let writing = (writing_from_a + writing_from_b) / 2;
    assert_eq!(snapshot(&out), trees[0]);

    let mut random = Random::seeded();
    let mut state = 0;
    let (mut old, mut new, mut left, mut completed) = (0, 0, 0, 0);
    for kill in 0..REPLACING_KILLS {
        let target = 1 - state;
        let mut child = spawn_synth(&scenarios[target], &out, Stdio::null());
        // Every other kill falls while files are written and exchanged, the rest anywhere; the
        // first falls at once and the last after the run, so that both ends are always seen
        // however loaded the machine is.
        let delay = if kill % 2 == 0 {
            run.mul_f64(1.1 * random.unit())
        } else {
            writing + (run.saturating_sub(writing)).mul_f64(random.unit())
        };
        if kill == REPLACING_KILLS - 1 {
            while child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(5));
            }
        } else if kill > 0 {
            std::thread::sleep(delay);
        }
        let name = SIGNALS[kill % SIGNALS.len()];
        // A process that has ended is not signalled: its id may already be another's.
        if child.try_wait().unwrap().is_none() {
            signal(&mut child, name);
        }
        if child.wait().unwrap().success() {
            completed += 1;
        }
        let now = snapshot(&out);
        let Some(found) = trees.iter().position(|tree| *tree == now) else {
            panic!(
                "SIG{name} after {delay:?} left a mix of old and new:\n{}",
                differences(&now, &trees[state])[..].join("\n")
            );
        };
        if found == state {
            old += 1;
        } else {
            new += 1;
        }
        assert_eq!(
            user_file_identities(&out),
            user_files,
            "SIG{name} after {delay:?}"
        );
        if !leftovers(&out).is_empty() {
            left += 1;
            let check = synth_output(&scenarios[found], &out, &["--check"]);
            assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
            assert!(
                text(&check.stderr).contains("leftover of an interrupted run"),
                "{}",
                text(&check.stderr)
            );
        }
        let next = synth_output(&scenarios[target], &out, &[]);
        assert!(next.status.success(), "{}", text(&next.stderr));
        assert!(
            !text(&next.stderr).contains("waiting"),
            "the killed run left its lock: {}",
            text(&next.stderr)
        );
        assert_eq!(snapshot(&out), trees[target]);
        assert_eq!(leftovers(&out), Vec::<PathBuf>::new());
        state = target;
    }
    eprintln!(
        "replacing: run {run:?}, writing from {writing:?}; {REPLACING_KILLS} kills: {old} left the old output, {new} the new one \
         ({completed} runs had finished), {left} left a staging directory"
    );
    assert!(old > 0 && new > 0, "the kills did not spread over the run");

    // An output directory that does not exist yet appears whole or not at all.
    let fresh = dir.path().join("fresh");
    synth(&scenarios[0], &fresh, &[]);
    let tree = snapshot(&fresh);
    fs::remove_dir_all(&fresh).unwrap();
    let (mut absent, mut whole) = (0, 0);
    for kill in 0..CREATING_KILLS {
        let mut child = spawn_synth(&scenarios[0], &fresh, Stdio::null());
        let delay = run.mul_f64(1.1 * random.unit());
        std::thread::sleep(delay);
        let name = SIGNALS[kill % SIGNALS.len()];
        signal(&mut child, name);
        child.wait().unwrap();
        if fresh.exists() {
            let now = snapshot(&fresh);
            assert!(
                now == tree,
                "SIG{name} after {delay:?} left a partial new directory:\n{}",
                differences(&now, &tree)[..].join("\n")
            );
            whole += 1;
        } else {
            absent += 1;
        }
        synth(&scenarios[0], &fresh, &[]);
        assert_eq!(snapshot(&fresh), tree);
        assert_eq!(leftovers(&fresh), Vec::<PathBuf>::new());
        fs::remove_dir_all(&fresh).unwrap();
    }
    eprintln!(
        "creating: {CREATING_KILLS} kills: {absent} left no directory, {whole} the whole output; \
         {:?} in all",
        started.elapsed()
    );
}

fn medium(seed: u64) -> Shape {
    Shape {
        seed,
        buckets: 8,
        accounts: 40 + seed as usize * 5,
        roles: 120,
        grants: 240,
        team_size: 2,
        declare_paths: true,
        organization: true,
        ..Shape::default()
    }
}

#[test]
fn runs_started_together_on_one_directory_leave_one_complete_output() {
    let dir = scratch();
    let scenarios: Vec<PathBuf> = (1..=3)
        .map(|seed| {
            let path = dir.path().join(format!("s{seed}.toml"));
            fs::write(&path, scenario(&medium(seed)).0).unwrap();
            path
        })
        .collect();
    let trees: Vec<_> = scenarios
        .iter()
        .enumerate()
        .map(|(index, path)| expected_tree(dir.path(), &format!("expect-{index}"), path))
        .collect();
    let out = dir.path().join("out");
    place_user_files(&out);
    synth(&scenarios[0], &out, &[]);
    let mut waited = 0;
    let mut results = Vec::new();
    for round in 0..6 {
        // A different order each round, so a different run tends to win.
        let children: Vec<Child> = (0..scenarios.len())
            .map(|index| {
                spawn_synth(
                    &scenarios[(index + round) % scenarios.len()],
                    &out,
                    Stdio::piped(),
                )
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{}", text(&output.stderr));
            if text(&output.stderr).contains("waiting for another crossgrant run") {
                waited += 1;
            }
        }
        let now = snapshot(&out);
        let Some(found) = trees.iter().position(|tree| *tree == now) else {
            panic!(
                "round {round}: the output is no one scenario's:\n{}",
                differences(&now, &trees[0])[..].join("\n")
            );
        };
        results.push(found);
        assert_eq!(leftovers(&out), Vec::<PathBuf>::new());
    }
    eprintln!("winners per round: {results:?}; {waited} runs waited for another");
}

/// A lock held on the directory that holds the output makes a run wait, saying so, and go on
/// once it is released.
#[test]
fn a_run_waits_for_the_lock_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let blog = root().join("examples/blog.toml");
    let mut holder = Command::new("flock")
        .args(["-o", dir.path().to_str().unwrap(), "sleep", "2"])
        .spawn()
        .expect("flock(1) runs");
    let held = |dir: &Path| {
        !Command::new("flock")
            .args(["-n", dir.to_str().unwrap(), "true"])
            .status()
            .unwrap()
            .success()
    };
    let clock = Instant::now();
    while !held(dir.path()) {
        assert!(
            clock.elapsed() < Duration::from_secs(5),
            "flock never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let run = synth_output(&blog, &out, &[]);
    holder.wait().unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains(&format!(
            "waiting for another crossgrant run on {} to finish",
            out.display()
        )),
        "{}",
        text(&run.stderr)
    );
    assert!(clock.elapsed() >= Duration::from_millis(1500));
    let check = synth_output(&blog, &out, &["--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}

const BLOG: &str = "examples/blog.toml";

fn blog() -> PathBuf {
    root().join(BLOG)
}

/// The blog scenario with the grant narrowed: its stacks render differently.
fn blog_v2(dir: &Path) -> PathBuf {
    let path = dir.join("v2.toml");
    let text = fs::read_to_string(blog()).unwrap();
    fs::write(
        &path,
        text.replace(r#"access = "read-write""#, r#"access = "read""#),
    )
    .unwrap();
    path
}

#[test]
fn a_file_crossgrant_did_not_write_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(out.join("terraform")).unwrap();
    fs::write(out.join("ACCESS.md"), "our own access notes\n").unwrap();
    fs::write(out.join("terraform/main.tf"), "# our own root module\n").unwrap();
    let before = snapshot(&out);
    let run = synth_output(&blog(), &out, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stdout));
    let message = text(&run.stderr);
    assert!(
        message.contains("refusing to overwrite 2 files")
            && message.contains("  ACCESS.md\n")
            && message.contains("  terraform/main.tf\n")
            && message.contains("--force"),
        "{message}"
    );
    assert_eq!(snapshot(&out), before, "the refused run changed something");
    assert_eq!(leftovers(&out), Vec::<PathBuf>::new());

    let run = synth_output(&blog(), &out, &["--force"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains(&format!("adopted {}", out.join("ACCESS.md").display())),
        "{stdout}"
    );
    let manifest = fs::read_to_string(out.join(".crossgrant-manifest")).unwrap();
    assert!(manifest.contains("\nACCESS.md\n"), "{manifest}");
    assert_ne!(
        fs::read_to_string(out.join("ACCESS.md")).unwrap(),
        "our own access notes\n"
    );
    let check = synth_output(&blog(), &out, &["--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));

    // Once adopted, the files are crossgrant's: the next run replaces them without --force.
    let run = synth_output(&blog_v2(dir.path()), &out, &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
}

/// After a CloudFormation-only run, a Terraform file of the user's is where `--target all`
/// writes; and a file that already holds exactly what crossgrant renders is taken over
/// without `--force` (nothing of the user's is lost).
#[test]
fn an_unlisted_file_in_a_later_target_is_refused_and_identical_ones_are_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    synth(&blog(), &out, &["--target", "cloudformation"]);
    fs::create_dir_all(out.join("terraform")).unwrap();
    fs::write(out.join("terraform/main.tf"), "# hand-written\n").unwrap();
    let before = snapshot(&out);
    let run = synth_output(&blog(), &out, &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("refusing to overwrite 1 file in")
            && text(&run.stderr).contains("  terraform/main.tf\n"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(snapshot(&out), before);

    let reference = dir.path().join("reference");
    synth(&blog(), &reference, &[]);
    fs::copy(
        reference.join("terraform/main.tf"),
        out.join("terraform/main.tf"),
    )
    .unwrap();
    let run = synth_output(&blog(), &out, &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("adopted"),
        "{}",
        text(&run.stdout)
    );
    assert_eq!(tree(&out), tree(&reference));
}

#[test]
fn user_files_survive_every_run_and_target_switch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let v2 = blog_v2(dir.path());
    place_user_files(&out);
    fs::create_dir(out.join("empty-of-ours")).unwrap();
    let user = user_file_identities(&out);
    let link = out.join("terraform/.terraform/registry");
    let runs: [(&Path, &[&str], &[&str]); 5] = [
        (&blog(), &[], &[]),
        (
            &blog(),
            &["--target", "terraform"],
            &["cloudformation/deploy.sh", "cloudformation/data-data.yaml"],
        ),
        (
            &v2,
            &["--target", "cloudformation"],
            &["terraform/main.tf", "terraform/modules/data/main.tf"],
        ),
        (
            &v2,
            &["--format", "json"],
            &["cloudformation/data-data.yaml"],
        ),
        (&blog(), &[], &["cloudformation/data-data.json"]),
    ];
    for (scenario, extra, removed) in runs {
        let run = synth_output(scenario, &out, extra);
        assert!(run.status.success(), "{extra:?}: {}", text(&run.stderr));
        let stdout = text(&run.stdout);
        for path in removed {
            assert!(
                stdout.contains(&format!("removed {}\n", out.join(path).display())),
                "{extra:?} should say it removed {path}: {stdout}"
            );
            assert!(!out.join(path).exists(), "{path}");
        }
        assert_eq!(user_file_identities(&out), user, "{extra:?}");
        assert_eq!(
            fs::read_link(&link).unwrap(),
            Path::new("providers/registry.terraform.io")
        );
        assert!(
            out.join("terraform/.terraform/modules").is_dir(),
            "{extra:?}"
        );
        assert!(out.join("empty-of-ours").is_dir(), "{extra:?}");
        let mode = fs::metadata(out.join(USER_FILES[4].0)).unwrap().mode();
        assert_eq!(mode & 0o777, 0o755);
        let mut check = vec!["--check"];
        check.extend_from_slice(extra);
        let check = synth_output(scenario, &out, &check);
        assert!(check.status.success(), "{extra:?}: {}", text(&check.stderr));
        assert_eq!(leftovers(&out), Vec::<PathBuf>::new());
    }
    // CloudFormation only: `terraform/` keeps the user's state once crossgrant's files are gone.
    synth(&blog(), &out, &["--target", "cloudformation"]);
    assert!(!out.join("terraform/modules").exists());
    assert_eq!(user_file_identities(&out), user);
}

#[test]
fn leftovers_of_an_interrupted_run_are_reported_by_check_and_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    synth(&blog(), &out, &[]);
    let beside = dir.path().join(".out.crossgrant-new-4242424");
    let inside = out.join(".crossgrant-staging-4242424");
    for staging in [&beside, &inside] {
        fs::create_dir(staging).unwrap();
        fs::write(staging.join("ACCESS.md"), "half written").unwrap();
    }
    let check = synth_output(&blog(), &out, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let report = text(&check.stderr);
    for staging in [&beside, &inside] {
        assert!(
            report.contains(&format!(
                "leftover of an interrupted run: {} (the next synth removes it)",
                staging.display()
            )),
            "{report}"
        );
    }
    let run = synth_output(&blog(), &out, &[]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for staging in [&beside, &inside] {
        assert!(
            text(&run.stdout).contains(&format!(
                "removed {} (left by an interrupted run)",
                staging.display()
            )),
            "{}",
            text(&run.stdout)
        );
        assert!(!staging.exists());
    }
    let check = synth_output(&blog(), &out, &["--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}
