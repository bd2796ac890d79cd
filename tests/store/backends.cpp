#include "tests/store/backends.hpp"

#include <cctype>

#include "tests/support/processes.hpp"
#include "tests/support/throwaway_postgres.hpp"

namespace graybox::testing {

std::vector<std::string> store_backends() { return {"sqlite", "postgresql"}; }

std::string fresh_storage_url(const std::string& backend, const std::string& name) {
  if (backend == "postgresql") {
    std::string database = "t_";
    for (const char c : name) database += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    return shared_postgres().fresh_database(database.substr(0, 60));
  }
  return "sqlite://" + fresh_dir("store_" + backend + "_" + name) + "/store.sqlite";
}

}  // namespace graybox::testing
