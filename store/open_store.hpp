// open_store: the backend a storage URL names.
//   sqlite:///abs/path/store.sqlite   (or sqlite://relative/path) the embedded file
//   postgresql://user@host:port/db     a PostgreSQL server (postgres:// too)
// A URL that names no backend is a UserError naming the option and the URL.
#pragma once

#include <memory>
#include <string>

#include "core/store.hpp"
#include "store/postgres_store.hpp"

namespace graybox::store {

struct StorageUrl {
  std::string scheme;  // "sqlite" or "postgresql"
  std::string target;  // the file path, or the libpq connection URI
};

// `option` names where the URL came from (e.g. "--storage"), for the message.
StorageUrl parse_storage_url(const std::string& url, const std::string& option);

std::unique_ptr<core::Store> open_store(const StorageUrl& url, const std::string& study);

// The store of a study that `graybox worker` processes share; only PostgreSQL has a work queue
// (a UserError for another URL, naming `option`). Store and queue are one object.
std::unique_ptr<PostgresStore> open_shared_study(const StorageUrl& url, const std::string& study, const std::string& option);

}  // namespace graybox::store
