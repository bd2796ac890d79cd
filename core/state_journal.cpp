#include "core/state_journal.hpp"

namespace graybox::core {

nlohmann::json StateJournal::load() {
  last_ = nullptr;
  for (const auto& entry : store_.state_log(key_)) last_.patch_inplace(nlohmann::json::parse(entry));
  if (last_.is_null() && !legacy_meta_key_.empty()) {
    const std::string legacy = store_.meta(legacy_meta_key_);
    // last_ stays null: the next record() starts the log with the whole state.
    if (!legacy.empty()) return nlohmann::json::parse(legacy);
  }
  return last_;
}

void StateJournal::record(const nlohmann::json& state) {
  // Compared as it will read back: a NaN or infinity is written as null.
  nlohmann::json next = nlohmann::json::parse(state.dump());
  const nlohmann::json change = nlohmann::json::diff(last_, next);
  if (change.empty()) return;
  store_.append_state(key_, change.dump());
  last_ = std::move(next);
}

}  // namespace graybox::core
