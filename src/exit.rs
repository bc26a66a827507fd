//! How a run ends, as one value: every exit code eksmon uses is decided by the one `match` in
//! [`From<ExitStatus> for ExitCode`]. A leaf module: it depends on nothing of eksmon's.

use std::process::ExitCode;

/// The outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: a tool or the cluster failed, or a release is not deployed (`status`).
    Failure,
    /// 2: bad usage or input; nothing was run.
    Usage,
    /// 3: the person at the terminal said no; nothing was done.
    Declined,
    /// 4: `diff --exit-code` found changes (the report is on stdout); not an error.
    ChangesFound,
    /// 128 + signal: interrupted (130 for SIGINT, 143 for SIGTERM).
    Interrupted(i32),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        let code: u8 = match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Declined => 3,
            ExitStatus::ChangesFound => 4,
            ExitStatus::Interrupted(signal) => u8::try_from(128 + signal).unwrap_or(1),
        };
        ExitCode::from(code)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;
    use std::process::ExitCode;

    #[test]
    fn each_status_has_its_code() {
        for (status, code) in [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::Declined, 3),
            (ExitStatus::ChangesFound, 4),
            (ExitStatus::Interrupted(libc::SIGINT), 130),
            (ExitStatus::Interrupted(libc::SIGTERM), 143),
        ] {
            assert_eq!(ExitCode::from(status), ExitCode::from(code), "{status:?}");
        }
    }
}
