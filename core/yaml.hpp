// yaml-cpp 0.7, with a known false-positive warning of GCC 12 in its node templates silenced
// (the warning fires where the templates are instantiated, i.e. in our files).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop
