// Each schedule's value at chosen t equals its closed form; YAML and recorded-file round trips.
#include "optim/schedule.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace graybox::optim {
namespace {

constexpr double kPi = 3.14159265358979323846;

double at(const std::string& yaml, double t) { return make_schedule(parse_schedule_text(yaml, "test"))->value(t); }

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("graybox_sched_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(Schedule, ConstantLinearStepMultistepExponential) {
  EXPECT_DOUBLE_EQ(at("{type: constant, value: 0.5}", 123.0), 0.5);
  const std::string linear = "{type: linear, start: 1.0, end: 0.1, duration: 100}";
  EXPECT_DOUBLE_EQ(at(linear, 0), 1.0);
  EXPECT_DOUBLE_EQ(at(linear, 25), 1.0 - 0.9 * 0.25);
  EXPECT_DOUBLE_EQ(at(linear, 100), 0.1);
  EXPECT_DOUBLE_EQ(at(linear, 500), 0.1);
  const std::string step = "{type: step, step_size: 30, gamma: 0.1}";
  EXPECT_DOUBLE_EQ(at(step, 29.9), 1.0);
  EXPECT_DOUBLE_EQ(at(step, 30), 0.1);
  EXPECT_NEAR(at(step, 65), 0.01, 1e-15);
  const std::string multi = "{type: multistep, milestones: [10, 25], gamma: 0.5}";
  EXPECT_DOUBLE_EQ(at(multi, 9), 1.0);
  EXPECT_DOUBLE_EQ(at(multi, 10), 0.5);
  EXPECT_DOUBLE_EQ(at(multi, 30), 0.25);
  EXPECT_DOUBLE_EQ(at("{type: exponential, gamma: 0.9}", 7), std::pow(0.9, 7));
}

TEST(Schedule, CosineClosedForm) {
  const std::string cosine = "{type: cosine, duration: 50, min: 0.1}";
  for (double t : {0.0, 12.5, 25.0, 40.0, 50.0}) {
    EXPECT_NEAR(at(cosine, t), 0.1 + 0.5 * 0.9 * (1 + std::cos(kPi * t / 50)), 1e-15) << t;
  }
  EXPECT_NEAR(at(cosine, 25), 0.55, 1e-15);
  EXPECT_NEAR(at(cosine, 80), 0.1, 1e-15);  // stays at the floor
}

TEST(Schedule, SgdrRestartsWithTMult) {
  // T_0 = 10, T_mult = 2: periods [0,10), [10,30), [30,70), [70,150).
  const std::string sgdr = "{type: sgdr, t0: 10, t_mult: 2, min: 0.0}";
  const auto expect = [](double cur, double period) { return 0.5 * (1 + std::cos(kPi * cur / period)); };
  EXPECT_DOUBLE_EQ(at(sgdr, 0), 1.0);
  EXPECT_NEAR(at(sgdr, 5), expect(5, 10), 1e-15);
  EXPECT_NEAR(at(sgdr, 9.999), expect(9.999, 10), 1e-12);
  EXPECT_DOUBLE_EQ(at(sgdr, 10), 1.0);  // restart
  EXPECT_NEAR(at(sgdr, 20), expect(10, 20), 1e-15);
  EXPECT_DOUBLE_EQ(at(sgdr, 30), 1.0);  // restart
  EXPECT_NEAR(at(sgdr, 50), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(at(sgdr, 70), 1.0);  // restart
  EXPECT_NEAR(at(sgdr, 100), expect(30, 80), 1e-15);
  // T_mult = 1: plain periodic restarts.
  const std::string periodic = "{type: sgdr, t0: 4, t_mult: 1, min: 0.2}";
  EXPECT_DOUBLE_EQ(at(periodic, 8), 1.0);
  EXPECT_NEAR(at(periodic, 10), 0.2 + 0.8 * 0.5, 1e-15);
}

TEST(Schedule, WarmupInFrontOfAnySchedule) {
  const std::string s = "{type: cosine, duration: 10, warmup: 2, warmup_start: 0.1}";
  EXPECT_DOUBLE_EQ(at(s, 0), 0.1);
  EXPECT_DOUBLE_EQ(at(s, 1), 0.1 + 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(at(s, 2), 1.0);
  EXPECT_NEAR(at(s, 7), 0.5 * (1 + std::cos(kPi * 5 / 10)), 1e-15);
  EXPECT_NEAR(at("{type: step, step_size: 5, gamma: 0.5, warmup: 4}", 2), 0.5, 1e-15);
  EXPECT_NEAR(at("{type: step, step_size: 5, gamma: 0.5, warmup: 4}", 9), 0.5, 1e-15);
}

TEST(Schedule, OneCycle) {
  const std::string s = "{type: onecycle, duration: 100, max_at: 0.3, div_factor: 25, final_div_factor: 10000}";
  const double initial = 1.0 / 25, final_value = initial / 1e4;
  EXPECT_NEAR(at(s, 0), initial, 1e-15);
  EXPECT_NEAR(at(s, 15), 1.0 + (initial - 1.0) * 0.5 * (1 + std::cos(kPi * 0.5)), 1e-15);
  EXPECT_DOUBLE_EQ(at(s, 30), 1.0);
  EXPECT_NEAR(at(s, 65), final_value + (1 - final_value) * 0.5 * (1 + std::cos(kPi * 0.5)), 1e-15);
  EXPECT_NEAR(at(s, 100), final_value, 1e-18);
}

TEST(Schedule, PiecewiseListOrMapping) {
  const std::string list = "{type: piecewise, points: [[0, 1.0], [10, 0.5], [20, 0.1]]}";
  EXPECT_DOUBLE_EQ(at(list, 0), 1.0);
  EXPECT_DOUBLE_EQ(at(list, 5), 0.75);
  EXPECT_DOUBLE_EQ(at(list, 15), 0.3);
  EXPECT_DOUBLE_EQ(at(list, 99), 0.1);
  EXPECT_DOUBLE_EQ(at("{type: piecewise, points: {10: 0.5, 0: 1.0}}", 5), 0.75);
}

TEST(Schedule, RecordedYamlAndCsvRoundTrip) {
  Recorded r;
  r.name = "learning_rate";
  r.points = {{0, 1e-3}, {500, 5e-4}, {1500, 2.5e-4}};
  const std::string yaml_path = temp_file("lr.yaml"), csv_path = temp_file("lr.csv");
  write_recorded(yaml_path, r);
  write_recorded(csv_path, r);
  for (const auto& path : {yaml_path, csv_path}) {
    const Recorded back = read_recorded(path);
    EXPECT_EQ(back.points, r.points);
    const auto s = make_schedule(parse_schedule_text("{type: recorded, file: " + path + "}", "test"));
    EXPECT_DOUBLE_EQ(s->value(499), 1e-3);  // hold until the next point
    EXPECT_DOUBLE_EQ(s->value(500), 5e-4);
    EXPECT_DOUBLE_EQ(s->value(9999), 2.5e-4);
  }
  EXPECT_EQ(read_recorded(yaml_path).name, "learning_rate");
  std::ofstream(csv_path) << "step,value\n0,1\n10,oops\n";
  EXPECT_THROW(read_recorded(csv_path), core::UserError);
  std::filesystem::remove(yaml_path);
  std::filesystem::remove(csv_path);
}

TEST(Schedule, BadSpecsNameTheKeyAndPosition) {
  try {
    parse_schedule_text("type: sgdr\nt0: -1\n", "sched.yaml");
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t0"), std::string::npos) << e.what();
  }
  try {
    parse_schedule_text("type: cosine\nduraton: 5\n", "sched.yaml");
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sched.yaml:2:1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_schedule_text("{type: piecewise, points: [[0, 1], [0, 2]]}", "x"), core::ConfigError);
  EXPECT_THROW(parse_schedule_text("{type: warmdown}", "x"), core::ConfigError);
  EXPECT_THROW(parse_schedule_text("{type: recorded, file: /nonexistent/lr.yaml}", "x"), core::UserError);
}

}  // namespace
}  // namespace graybox::optim
