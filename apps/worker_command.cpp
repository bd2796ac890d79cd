// graybox worker: one process of a study's workers. It finds the study's directory in the store
// and works there like `graybox tune --resume` would, without the run directory's lock (many
// workers share the directory) and without writing the run's summary (the driver does).
#include "apps/commands.hpp"
#include "core/error.hpp"
#include "store/open_store.hpp"

namespace graybox::apps {

int worker_command(TuneOptions options) {
  if (options.storage.empty()) throw core::UserError("worker: --storage URL is required (postgresql://user@host:port/db)");
  const store::StorageUrl url = store::parse_storage_url(options.storage, "--storage");
  const std::string dir = store::open_shared_study(url, options.study, "--storage")->study_dir();
  if (dir.empty()) {
    throw core::UserError("--study " + options.study + ": no such study in " + options.storage +
                          " (set it up with graybox tune CONFIG --storage URL --study NAME --workers-only)");
  }
  options.out = dir;
  options.resume = true;
  options.worker = true;
  return tune_command(options);
}

}  // namespace graybox::apps
