// Graceful stop for long commands: Ctrl-C or SIGTERM sets a flag that the command checks between
// iterations, so it stops with a checkpoint and a committed store instead of mid-write.
#pragma once

namespace graybox::apps {

// Installs the SIGINT and SIGTERM handlers.
void install_stop_handlers();
// The signal that asked to stop, or 0.
int stop_signal();

}  // namespace graybox::apps
