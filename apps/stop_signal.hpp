// Graceful stop for long commands: Ctrl-C or SIGTERM sets a flag that the command checks between
// iterations, so it stops with a checkpoint and a committed store instead of mid-write. A
// second Ctrl-C exits at once: the store commits whole steps and checkpoints are renamed into
// place, so what a kill leaves, --resume continues.
#pragma once

#include <string>

namespace graybox::apps {

// Installs the SIGINT and SIGTERM handlers. `resume` is the command that continues the run,
// printed when a signal arrives.
void install_stop_handlers(const std::string& resume = "");
// The signal that asked to stop, or 0.
int stop_signal();

}  // namespace graybox::apps
