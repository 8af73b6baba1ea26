//! How a resource command group (`targets`, `aliases`, `users`, …) runs: connect with the
//! leaf command's flags, execute, and print the output or the error in the chosen format.

use super::flags::{ClientFlags, Connection};
use super::output::{self, Output};

/// A command group whose every leaf command talks to the controller.
pub(crate) trait ResourceCommand {
    /// The leaf command's controller flags (each leaf flattens its own [`ClientFlags`]).
    fn flags(&self) -> &ClientFlags;

    /// Does the work with a connected client.
    async fn execute(self, conn: &Connection) -> anyhow::Result<Output>;
}

/// Runs `command`; the return value is the process exit code.
pub(crate) async fn run(command: impl ResourceCommand) -> i32 {
    let format = command.flags().format;
    let result = async {
        let conn = command.flags().connect().await?;
        command.execute(&conn).await
    };
    output::emit(format, result.await)
}
