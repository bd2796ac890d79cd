// Bad input, end to end (issue 11's reliability pass, issue 10 item 9): one table of command
// lines, each of which must exit with code 2 and a message naming the file, key or path at
// fault, in printable text. Cheap: every case fails before any training.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/apps/cli.hpp"

namespace {

using namespace graybox_cli_test;

struct BadInput {
  const char* name;
  std::string args;                   // after `graybox`; DIR stands for the test's folder
  std::vector<std::string> expected;  // each must appear in the output (DIR expanded)
};

std::string expand(std::string text, const std::string& dir) {
  for (std::size_t at; (at = text.find("DIR")) != std::string::npos;) text.replace(at, 3, dir);
  return text;
}

class CliBadInput : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    write("tiny.yaml", kTinyConfig);
    write("branin.yaml", "seed: 1\ntask: branin\ntune:\n  algorithm: random\n  num_trials: 2\n  max_budget: 1\n"
                         "search_space:\n  x1: {type: float, low: -5, high: 10}\n");
    write("digits.yaml", "seed: 1\ndata:\n  name: digits\nmodel:\n  widths: [8]\ntrain:\n  epochs: 1\n");
    write("empty/.keep", "");
    write("junk/notes.txt", "not a run\n");
    // Digits with 10 columns instead of 65, and a .gz file that is not gzip (binary bytes).
    write("digits10/raw.csv", "1,2,3,4,5,6,7,8,9,0\n1,2,3,4,5,6,7,8,9,1\n");
    EXPECT_EQ(std::system(("gzip -c " + dir_ + "/digits10/raw.csv > " + dir_ + "/digits10/digits.csv.gz").c_str()), 0);
    write("tune_rl.yaml", "task: rl\nbase_config: nowhere/base.yaml\nsearch_space:\n  agent.gamma: 0.99\n");
  }
};

TEST_F(CliBadInput, EveryCaseIsExitCode2WithAMessageNamingTheCulprit) {
  fs::create_directories(dir_ + "/binary");
  std::ofstream(dir_ + "/binary/digits.csv.gz", std::ios::binary) << std::string("\x01\xfe\x7f\x80\x00\x1b[2J", 9);
  const std::string branin = "tune DIR/branin.yaml --quiet --out DIR/t";
  const std::vector<BadInput> cases = {
      // Item 1: command-line options get their key's range checks.
      {"parallel_huge", branin + " --parallel 100000", {"--parallel 100000", "tune.parallel", "[1, 1024]"}},
      {"parallel_zero", branin + " --parallel 0", {"--parallel 0", "out of range"}},
      {"parallel_negative", branin + " --parallel -1", {"--parallel -1", "out of range"}},
      {"parallel_word", branin + " --parallel many", {"--parallel many", "expected an integer"}},
      {"eval_episodes_zero", "eval DIR --episodes 0", {"--episodes"}},
      // Item 3: layer sizes are bounded, and the memory of a network is checked before it is built.
      {"hidden_sizes_huge", "train DIR/tiny.yaml --set 'agent.hidden_sizes=[100000000]' --out DIR/r",
       {"agent.hidden_sizes", "out of range", "65536"}},
      {"hidden_sizes_no_memory", "train DIR/tiny.yaml --set 'agent.hidden_sizes=[65536,65536,65536]' --out DIR/r",
       {"agent.hidden_sizes", "GB", "more than"}},
      {"widths_huge", "fit DIR/digits.yaml --set 'model.widths=[100000000]' --out DIR/f", {"model.widths", "out of range"}},
      // Item 9: a budget below one rollout.
      {"total_below_rollout", "train DIR/tiny.yaml --set total_steps=100 --out DIR/r",
       {"total_steps", "less than one rollout", "256"}},
      // Item 10: a directory as CONFIG.
      {"train_directory", "train DIR --out DIR/r", {"DIR: is a directory"}},
      {"fit_directory", "fit DIR --out DIR/f", {"DIR: is a directory"}},
      {"tune_directory", "tune DIR --out DIR/t", {"DIR: is a directory"}},
      // Item 12: data that does not match its set's definition.
      {"digits_ten_columns", "fit DIR/digits.yaml --set data.dir=DIR/digits10 --out DIR/f",
       {"DIR/digits10/digits.csv.gz", "64 features", "65 columns"}},
      // Item 13: user errors, not internal ones.
      {"out_is_a_file", "train DIR/tiny.yaml --out DIR/tiny.yaml", {"DIR/tiny.yaml: exists and is not a directory"}},
      {"fractions_leave_nothing", "fit DIR/digits.yaml --set data.val_fraction=0.6 --set data.test_fraction=0.5 --out DIR/f",
       {"data.val_fraction (0.6)", "data.test_fraction (0.5)"}},
      {"cnn_on_digits", "fit DIR/digits.yaml --set model.type=cnn --out DIR/f", {"model.type", "image data"}},
      // Item 14: messages that name the right thing.
      {"train_resume_missing", "train --resume --out DIR/missing", {"DIR/missing: not a train run directory"}},
      {"train_resume_empty", "train --resume --out DIR/empty", {"DIR/empty: not a train run directory"}},
      {"fit_resume_junk", "fit --resume --out DIR/junk", {"DIR/junk: not a fit run directory"}},
      {"bogus_subcommand", "bogus", {"unknown subcommand 'bogus'", "train, fit, eval, tune"}},
      {"condition_position", "tune " + write("cond.yaml", "task: branin\nsearch_space:\n  x1: {type: float, low: -5, high: 10,"
                                                          " condition: {parent: x2, values: [a]}}\n") + " --out DIR/t",
       {"cond.yaml:3:", "condition: parent 'x2'"}},
      {"missing_base_config", "tune DIR/tune_rl.yaml --out DIR/t",
       {"DIR/tune_rl.yaml:2:", "base_config", "DIR/nowhere/base.yaml"}},
      {"total_steps_huge", "train DIR/tiny.yaml --set total_steps=1e30 --out DIR/r", {"total_steps", "1e30 is out of range"}},
      {"not_gzip", "fit DIR/digits.yaml --set data.dir=DIR/binary --out DIR/f",
       {"DIR/binary/digits.csv.gz: not a gzip file", "0x01 0xfe"}},
      {"config_with_resume", "train DIR/tiny.yaml --resume --out DIR/r", {"--resume", "DIR/tiny.yaml", "ignored"}},
      // Issue 10 item 9: search-space dimensions against the key's schema, at load time.
      {"dimension_wrong_type", "tune " + write("s1.yaml", "task: rl\nbase_config: tiny.yaml\nsearch_space:\n"
                                                         "  agent.num_steps: {type: float, low: 64, high: 256}\n") + " --out DIR/t",
       {"s1.yaml:4:", "search_space.agent.num_steps", "an integer", "type: int"}},
      {"dimension_out_of_range", "tune " + write("s2.yaml", "task: rl\nbase_config: tiny.yaml\nsearch_space:\n"
                                                           "  agent.gamma: {type: float, low: 0.9, high: 1.5}\n") + " --out DIR/t",
       {"s2.yaml:4:", "search_space.agent.gamma.high", "1.5 is out of range", "[0, 1]"}},
      {"dimension_bad_choice", "tune " + write("s3.yaml", "task: rl\nbase_config: tiny.yaml\nsearch_space:\n"
                                                         "  agent.clip_coef: {type: categorical, choices: [0.2, -1]}\n") + " --out DIR/t",
       {"s3.yaml:4:", "search_space.agent.clip_coef", "-1 is out of range"}},
      {"dimension_string_key", "tune " + write("s4.yaml", "task: rl\nbase_config: tiny.yaml\nsearch_space:\n"
                                                         "  env.id: {type: float, low: 0, high: 1}\n") + " --out DIR/t",
       {"s4.yaml:4:", "search_space.env.id", "a string", "categorical or fixed"}},
      {"dimension_unknown_key", "tune " + write("s5.yaml", "task: rl\nbase_config: tiny.yaml\nsearch_space:\n"
                                                          "  agent.learning_rat: {type: float, low: 0.001, high: 0.1}\n") + " --out DIR/t",
       {"s5.yaml:4:", "agent.learning_rat", "did you mean 'agent.learning_rate'"}},
      {"branin_bound_outside", "tune " + write("s6.yaml", "task: branin\nsearch_space:\n  x1: {type: float, low: -50, high: 10}\n") +
                                   " --out DIR/t",
       {"s6.yaml:3:", "search_space.x1.low", "[-5, 10]"}},
  };
  for (const auto& c : cases) {
    const Result r = run(expand(c.args, dir_));
    EXPECT_EQ(r.code, 2) << c.name << ": " << r.output;
    for (const auto& text : c.expected) {
      EXPECT_NE(r.output.find(expand(text, dir_)), std::string::npos) << c.name << ": no '" << text << "' in: " << r.output;
    }
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << c.name << ": " << r.output;
    EXPECT_TRUE(std::all_of(r.output.begin(), r.output.end(),
                            [](char ch) { return ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f) || (ch & 0x80); }))
        << c.name << ": control bytes in the output";
    EXPECT_EQ(r.output.find("\x1b[2J"), std::string::npos) << c.name << ": raw bytes from a data file";
    EXPECT_FALSE(fs::exists(dir_ + "/r/config.yaml")) << c.name << ": a failed command wrote a run";
  }
}

// Issue 11 item 9: a total that is not a whole number of rollouts says what will be trained.
TEST_F(CliBadInput, ATotalThatIsNoWholeNumberOfRolloutsSaysWhatIsTrained) {
  const Result r = run("train " + dir_ + "/tiny.yaml --quiet --set total_steps=600 --set eval.episodes=0 --out " + dir_ + "/r");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("total_steps 600 is not a multiple of the rollout (256 env steps); training 512 steps"),
            std::string::npos) << r.output;
}

}  // namespace
