// EnvState <-> JSON, for checkpoints. Doubles are written as C99 hex-float strings
// (e.g. "0x1.999999999999ap-4", "inf", "nan"), so every value, non-finite ones included,
// round-trips bit-exactly. Reading also accepts plain JSON numbers.
#pragma once

#include <nlohmann/json.hpp>

#include "envs/env.hpp"

namespace graybox::envs {

nlohmann::json to_json(const EnvState& state);
// Throws EnvError for a missing field or a value of the wrong type.
EnvState env_state_from_json(const nlohmann::json& json);

}  // namespace graybox::envs
