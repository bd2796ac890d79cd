#include "envs/env_state_json.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace graybox::envs {
namespace {

using nlohmann::json;

std::string encode(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%a", v);
  return buf;
}

double decode(const json& j, const char* field) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return v;
  }
  throw EnvError(std::string("env state JSON: field '") + field + "' holds a bad number: " + j.dump());
}

json encode_vector(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(encode(v));
  return out;
}

const json& field(const json& j, const char* name) {
  if (!j.is_object()) throw EnvError("env state JSON: expected an object");
  const auto it = j.find(name);
  if (it == j.end()) throw EnvError(std::string("env state JSON: missing field '") + name + "'");
  return *it;
}

std::vector<double> decode_vector(const json& j, const char* name) {
  const json& arr = field(j, name);
  if (!arr.is_array()) throw EnvError(std::string("env state JSON: field '") + name + "' is not an array");
  std::vector<double> out;
  out.reserve(arr.size());
  for (const json& v : arr) out.push_back(decode(v, name));
  return out;
}

std::int64_t decode_int(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_integer()) throw EnvError(std::string("env state JSON: field '") + name + "' is not an integer");
  return v.get<std::int64_t>();
}

}  // namespace

json to_json(const EnvState& state) {
  json j = json::object();
  j["qpos"] = encode_vector(state.qpos);
  j["qvel"] = encode_vector(state.qvel);
  j["act"] = encode_vector(state.act);
  j["ctrl"] = encode_vector(state.ctrl);
  j["time"] = encode(state.time);
  j["elapsed_steps"] = state.elapsed_steps;
  j["episode_return"] = encode(state.episode_return);
  j["episode_length"] = state.episode_length;
  j["rng"] = state.rng;
  j["extra"] = encode_vector(state.extra);
  return j;
}

EnvState env_state_from_json(const json& j) {
  EnvState s;
  s.qpos = decode_vector(j, "qpos");
  s.qvel = decode_vector(j, "qvel");
  s.act = decode_vector(j, "act");
  s.ctrl = decode_vector(j, "ctrl");
  s.time = decode(field(j, "time"), "time");
  s.elapsed_steps = decode_int(j, "elapsed_steps");
  s.episode_return = decode(field(j, "episode_return"), "episode_return");
  s.episode_length = decode_int(j, "episode_length");
  const json& rng = field(j, "rng");
  if (!rng.is_string()) throw EnvError("env state JSON: field 'rng' is not a string");
  s.rng = rng.get<std::string>();
  s.extra = decode_vector(j, "extra");
  return s;
}

}  // namespace graybox::envs
