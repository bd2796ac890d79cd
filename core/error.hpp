// User errors: bad input that the user can fix (a config, a model file, a data file, a
// command-line value). The CLI prints the message and exits with code 2. Anything else that
// escapes is a bug.
#pragma once

#include <stdexcept>
#include <string>

namespace graybox::core {

inline constexpr int kExitUserError = 2;

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A config problem; the message starts with "FILE:LINE:COL:" where a position is known.
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace graybox::core
