// The MJCF models shipped with graybox, embedded into the library at build time.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace graybox::envs {

// Finds a shipped model by file name (e.g. "hopper.xml"). Returns false if there is none.
bool embedded_model(const std::string& name, const unsigned char** data, std::size_t* size);

// The file names of all shipped models.
std::vector<std::string> embedded_model_names();

}  // namespace graybox::envs
