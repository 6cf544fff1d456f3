//! A local AWS emulator (`moto_server`) for end-to-end tests, and the AWS CLI pointed at it.
//!
//! One server serves a whole test binary: start it with [`Moto::start`], keep the value alive
//! for as long as the tests run, and it is killed when the value drops — also when a test panics,
//! since unwinding runs destructors. Between cases [`Moto::reset`] wipes all state, which is much
//! cheaper than a restart.
//!
//! Accounts are reached the way the emulator allows: `sts assume-role` into any role ARN of the
//! target account returns credentials that act in that account. [`Profiles`] writes them as
//! named profiles into a private `AWS_SHARED_CREDENTIALS_FILE`/`AWS_CONFIG_FILE`, so a script
//! that selects accounts with `--profile` (as the generated `deploy.sh` does) runs unchanged.
//! Credentials issued before a reset silently fall back to the emulator's default account, so
//! profiles must be issued again after every reset.

use serde_json::Value as Json;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::require_tool;

/// A running `moto_server` on 127.0.0.1, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts the server on a free port and waits until it answers.
    pub fn start() -> Moto {
        require_tool(
            "moto_server",
            &["--help"],
            "install it with `python3 -m pip install -r requirements-test.txt`",
        );
        let dir = tempfile::tempdir().expect("temporary directory for the emulator log");
        let log = dir.path().join("moto_server.log");
        let port = free_port();
        let log_file = std::fs::File::create(&log).expect("emulator log file");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("emulator log file"))
            .stderr(log_file)
            .spawn()
            .expect("moto_server starts");
        let mut moto = Moto {
            child,
            port,
            log,
            _dir: dir,
        };
        moto.wait_until_ready(Duration::from_secs(60));
        moto
    }

    fn wait_until_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto_server exited with {status} before answering\n{}",
                    self.log_tail(40)
                );
            }
            if let Ok((200, _)) = self.request("GET", "/moto-api/") {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "moto_server did not answer on port {} within {limit:?}\n{}",
                self.port,
                self.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One server for the tests of a binary that run side by side, started by the first of them
    /// and killed when the last one holding it ends. Tests that share it never reset it: each
    /// works in accounts of its own.
    pub fn shared() -> std::sync::Arc<Moto> {
        static SHARED: std::sync::Mutex<std::sync::Weak<Moto>> =
            std::sync::Mutex::new(std::sync::Weak::new());
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(moto) = shared.upgrade() {
            return moto;
        }
        let moto = std::sync::Arc::new(Moto::start());
        *shared = std::sync::Arc::downgrade(&moto);
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Wipes every account's state. Credentials issued before are no longer valid.
    pub fn reset(&self) {
        match self.request("POST", "/moto-api/reset") {
            Ok((200, _)) => {}
            other => panic!("resetting moto_server failed: {other:?}"),
        }
    }

    /// The last `lines` lines of the server's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        format!(
            "--- last lines of the moto_server log ---\n{}",
            all[start..].join("\n")
        )
    }

    /// Whether the server's log mentions `text` (the emulator reports unsupported
    /// CloudFormation resources only there).
    pub fn log_contains(&self, text: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|log| log.contains(text))
    }

    /// A minimal HTTP/1.1 request without a body; returns the status and the body.
    fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

/// One named AWS CLI profile: an account of the emulator, reached through STS.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub account_id: String,
    pub region: String,
}

/// A private AWS CLI configuration: credentials and config files holding one profile per
/// account, and the environment that points the CLI (and Terraform) at the emulator.
pub struct Profiles {
    endpoint: String,
    dir: tempfile::TempDir,
    credentials: String,
    config: String,
}

/// One AWS API operation for [`Profiles::api`]: botocore's snake_case operation name and its
/// parameters, as the profile of an account in a region.
#[derive(Clone, Debug)]
pub struct ApiCall {
    pub profile: String,
    pub region: String,
    pub service: &'static str,
    pub operation: &'static str,
    pub params: Json,
}

impl ApiCall {
    pub fn new(
        profile: &str,
        region: &str,
        service: &'static str,
        operation: &'static str,
        params: Json,
    ) -> ApiCall {
        ApiCall {
            profile: profile.to_string(),
            region: region.to_string(),
            service,
            operation,
            params,
        }
    }

    fn to_json(&self) -> Json {
        serde_json::json!({
            "profile": self.profile,
            "region": self.region,
            "service": self.service,
            "operation": self.operation,
            "params": self.params,
        })
    }
}

/// An AWS API error: the service's error code (e.g. `NoSuchBucketPolicy`) and message.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// A failed AWS CLI call: what was run and what it printed.
#[derive(Debug)]
pub struct CliError {
    pub command: String,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` failed\nstdout:\n{}\nstderr:\n{}",
            self.command, self.stdout, self.stderr
        )
    }
}

impl Profiles {
    /// Issues fresh credentials for each profile (by `sts assume-role` into a role of its
    /// account) and writes them. Call again after every [`Moto::reset`].
    pub fn issue(moto: &Moto, profiles: &[Profile]) -> Profiles {
        require_tool(
            "aws",
            &["--version"],
            "install the AWS CLI with `python3 -m pip install -r requirements-test.txt`",
        );
        let mut out = Profiles {
            endpoint: moto.endpoint(),
            dir: tempfile::tempdir().expect("temporary directory for AWS profiles"),
            credentials: String::new(),
            config: String::new(),
        };
        out.write();
        for profile in profiles {
            let role_arn = format!(
                "arn:aws:iam::{}:role/crossgrant-test-deployer",
                profile.account_id
            );
            let credentials = out
                .run_with_keys(&[
                    "sts",
                    "assume-role",
                    "--region",
                    &profile.region,
                    "--role-arn",
                    &role_arn,
                    "--role-session-name",
                    "crossgrant-test",
                ])
                .unwrap_or_else(|error| panic!("{error}"));
            out.add(profile, &credentials["Credentials"]);
        }
        out
    }

    /// A configuration of its own holding the same profiles, for a second user that adds
    /// profiles of its own.
    pub fn fork(&self) -> Profiles {
        let out = Profiles {
            endpoint: self.endpoint.clone(),
            dir: tempfile::tempdir().expect("temporary directory for AWS profiles"),
            credentials: self.credentials.clone(),
            config: self.config.clone(),
        };
        out.write();
        out
    }

    /// Adds a profile that acts as `role_arn`, assumed with the credentials of profile `from`:
    /// the way a consumer workload gets its role's credentials.
    pub fn assume(&mut self, name: &str, from: &str, role_arn: &str, region: &str) {
        let credentials = self
            .json(&[
                "sts",
                "assume-role",
                "--profile",
                from,
                "--role-arn",
                role_arn,
                "--role-session-name",
                name,
            ])
            .unwrap_or_else(|error| panic!("{error}"));
        let caller = &credentials["AssumedRoleUser"]["Arn"];
        assert!(
            caller
                .as_str()
                .is_some_and(|arn| arn.contains(role_arn.rsplit('/').next().unwrap_or(""))),
            "assuming {role_arn} returned an unexpected identity: {caller}"
        );
        let account_id = role_arn.split(':').nth(4).unwrap_or_default().to_string();
        self.add(
            &Profile {
                name: name.to_string(),
                account_id,
                region: region.to_string(),
            },
            &credentials["Credentials"],
        );
    }

    fn add(&mut self, profile: &Profile, credentials: &Json) {
        let field = |name: &str| {
            credentials[name]
                .as_str()
                .unwrap_or_else(|| panic!("assume-role returned no {name}: {credentials}"))
                .to_string()
        };
        let _ = write!(
            self.credentials,
            "[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n\n",
            profile.name,
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        );
        let _ = write!(
            self.config,
            "[profile {}]\nregion = {}\noutput = json\n\n",
            profile.name, profile.region
        );
        self.write();
    }

    fn write(&self) {
        std::fs::write(self.credentials_file(), &self.credentials).expect("credentials file");
        std::fs::write(self.config_file(), &self.config).expect("config file");
    }

    fn credentials_file(&self) -> PathBuf {
        self.dir.path().join("credentials")
    }

    fn config_file(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// A command for `program` whose AWS CLI calls go to the emulator and find the profiles.
    /// Ambient AWS settings of the machine are removed so they cannot leak into a test.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        for variable in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ] {
            command.env_remove(variable);
        }
        command
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_file())
            .env("AWS_CONFIG_FILE", self.config_file())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .stdin(Stdio::null());
        command
    }

    /// Runs the AWS CLI with `args` and parses what it prints as JSON (empty output is `null`).
    pub fn json(&self, args: &[&str]) -> Result<Json, CliError> {
        let mut command = self.command("aws");
        command.args(args).args(["--output", "json"]);
        parse_cli(command, args)
    }

    /// Like [`Profiles::json`], with extra environment variables (e.g. `AWS_MAX_ATTEMPTS`).
    pub fn json_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Json, CliError> {
        let mut command = self.command("aws");
        command
            .envs(env.iter().copied())
            .args(args)
            .args(["--output", "json"]);
        parse_cli(command, args)
    }

    /// Runs independent AWS CLI calls side by side, a few at a time (each CLI start costs about
    /// a second of Python start-up), and returns their results in order.
    pub fn json_all(&self, calls: &[Vec<String>]) -> Vec<Result<Json, CliError>> {
        const WORKERS: usize = 4;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Result<Json, CliError>>>> =
            calls.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..WORKERS.min(calls.len()) {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(call) = calls.get(index) else { break };
                    let call: Vec<&str> = call.iter().map(String::as_str).collect();
                    let result = self.json(&call);
                    *results[index].lock().expect("result slot") = Some(result);
                });
            }
        });
        results
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .expect("result slot")
                    .expect("every call ran")
            })
            .collect()
    }

    /// Runs API calls in one Python process with botocore (the AWS CLI's own library; see
    /// `tests/deploy/aws_batch.py`), in order, and returns each call's response or error.
    pub fn api(&self, calls: &[ApiCall]) -> Vec<Result<Json, ApiError>> {
        if calls.is_empty() {
            return Vec::new();
        }
        let script = super::root().join("tests/deploy/aws_batch.py");
        let input = Json::Array(calls.iter().map(ApiCall::to_json).collect()).to_string();
        let mut child = self
            .command("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("calls written to python3");
        let output = child.wait_with_output().expect("python3 finishes");
        assert!(
            output.status.success(),
            "{} failed on {input}\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let results: Vec<Json> =
            serde_json::from_slice(&output.stdout).expect("aws_batch.py prints JSON");
        assert_eq!(results.len(), calls.len(), "one result per call");
        results
            .into_iter()
            .map(|result| match result.get("ok") {
                Some(response) => Ok(response.clone()),
                None => Err(ApiError {
                    code: result["error"]["code"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    message: result["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                }),
            })
            .collect()
    }

    /// Adds a profile holding `credentials` as returned by `sts assume-role`.
    pub fn add_assumed(&mut self, name: &str, account_id: &str, region: &str, credentials: &Json) {
        self.add(
            &Profile {
                name: name.to_string(),
                account_id: account_id.to_string(),
                region: region.to_string(),
            },
            credentials,
        );
    }

    /// Like [`Profiles::json`], with the emulator's dummy long-term keys instead of a profile.
    fn run_with_keys(&self, args: &[&str]) -> Result<Json, CliError> {
        let mut command = self.command("aws");
        command
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .args(args)
            .args(["--output", "json"]);
        parse_cli(command, args)
    }

    /// The environment Terraform needs to reach the emulator with the dummy keys (its
    /// providers assume a role in each account themselves).
    pub fn terraform_command(&self, directory: &Path) -> Command {
        let mut command = self.command("terraform");
        command
            .current_dir(directory)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1");
        command
    }
}

fn parse_cli(mut command: Command, args: &[&str]) -> Result<Json, CliError> {
    let output: Output = command.output().expect("the aws CLI runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let error = || CliError {
        command: format!("aws {}", args.join(" ")),
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    };
    if !output.status.success() {
        return Err(error());
    }
    if stdout.trim().is_empty() {
        return Ok(Json::Null);
    }
    serde_json::from_str(&stdout).map_err(|_| error())
}
