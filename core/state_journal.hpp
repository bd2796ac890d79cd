// StateJournal: a runner's resume state (a JSON document: controller state, results so far)
// kept in a store's state log as a chain of changes. record() appends only what changed since
// the last record (an RFC 6902 JSON Patch: a new result is one "add", an RNG one "replace"), in
// the store's next commit; load() replays the chain. So the bytes written per batch stay the
// same size however long the history grows, and the resume state is exactly the last recorded
// document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/store.hpp"

namespace graybox::core {

class StateJournal {
 public:
  // `legacy_meta_key`: the meta row where stores of the first schema kept the whole state.
  StateJournal(Store& store, std::string key, std::string legacy_meta_key = "")
      : store_(store), key_(std::move(key)), legacy_meta_key_(std::move(legacy_meta_key)) {}

  // The document the log ends with; later records extend it. With an empty log: the legacy
  // meta row's state (the next record() starts the log with it, whole), else null.
  nlohmann::json load();
  // Appends the change from the last recorded document to `state` (nothing if equal).
  void record(const nlohmann::json& state);

 private:
  Store& store_;
  std::string key_, legacy_meta_key_;
  nlohmann::json last_;  // as it reads back from the log (numbers and nulls round-tripped)
};

}  // namespace graybox::core
