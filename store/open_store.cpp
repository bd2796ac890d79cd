#include "store/open_store.hpp"

#include "core/error.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace graybox::store {

StorageUrl parse_storage_url(const std::string& url, const std::string& option) {
  const auto colon = url.find("://");
  const std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : url.substr(colon + 3);
  if (scheme == "sqlite" && !rest.empty()) return {"sqlite", rest};
  if ((scheme == "postgresql" || scheme == "postgres") && !rest.empty()) return {"postgresql", "postgresql://" + rest};
  throw core::UserError(option + " '" + url +
                        "': not a storage URL (sqlite:///path/store.sqlite or postgresql://user@host:port/db)");
}

std::unique_ptr<core::Store> open_store(const StorageUrl& url, const std::string& study) {
  if (url.scheme == "sqlite") return std::make_unique<SqliteStore>(url.target, study);
  return std::make_unique<PostgresStore>(url.target, study);
}

std::unique_ptr<PostgresStore> open_shared_study(const StorageUrl& url, const std::string& study, const std::string& option) {
  if (url.scheme != "postgresql") {
    throw core::UserError(option + " " + url.scheme + "://" + url.target +
                          ": workers share a study through a PostgreSQL store (postgresql://user@host:port/db)");
  }
  return std::make_unique<PostgresStore>(url.target, study);
}

}  // namespace graybox::store
