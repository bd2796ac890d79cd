// Checks of the pictures graybox report draws: a valid PNG header, and content (decoded by
// matplotlib: ink and several colours, so a blank or single-colour image fails).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"

namespace graybox_cli_test {

inline bool matplotlib_present() { return std::system("/usr/bin/python3 -c 'import matplotlib' > /dev/null 2>&1") == 0; }

// A PNG's signature, then its IHDR chunk with a non-zero width and height.
inline void expect_png_header(const std::string& path) {
  const std::string bytes = graybox::core::read_file(path);
  ASSERT_GT(bytes.size(), 33u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(bytes.substr(12, 4), "IHDR") << path;
  const auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_GT(be32(16), 100u) << path;  // width
  EXPECT_GT(be32(20), 100u) << path;  // height
}

// Decoded by matplotlib: more than 1 % of the pixels are not white and there are lines and text
// in several colours (a blank or single-colour image fails).
inline void expect_drawn(const std::string& path) {
  const Result r = shell("", "/usr/bin/python3 -c \"import sys, numpy, matplotlib.image as m; a = m.imread(sys.argv[1])[:, :, :3]; "
                             "ink = (a < 0.95).any(axis=2).mean(); colours = len(numpy.unique((a * 255).astype(int).reshape(-1, 3), axis=0)); "
                             "print('ink', ink, 'colours', colours); sys.exit(0 if ink > 0.01 and colours > 8 else 1)\" " + path);
  EXPECT_EQ(r.code, 0) << path << ": " << r.output;
}

// The picture holds at least `fraction` of its pixels near matplotlib's first colour (tab:blue,
// #1f77b4): the first series was drawn, not only axes.
inline void expect_first_series(const std::string& path, double fraction) {
  const Result r = shell("", "/usr/bin/python3 -c \"import sys, numpy, matplotlib.image as m; a = m.imread(sys.argv[1])[:, :, :3] * 255; "
                             "blue = (numpy.abs(a - [31, 119, 180]).max(axis=2) < 40).mean(); print('tab:blue', blue); "
                             "sys.exit(0 if blue > " + std::to_string(fraction) + " else 1)\" " + path);
  EXPECT_EQ(r.code, 0) << path << ": " << r.output;
}

}  // namespace graybox_cli_test
