// Tests of human_number / exact_number.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "vidsift/format.h"

using namespace vidsift;

TEST(Format, HumanNumberHasNoTrailingZerosOrExponent) {
  EXPECT_EQ(human_number(1800.0), "1800");
  EXPECT_EQ(human_number(10.0), "10");
  EXPECT_EQ(human_number(2.5), "2.5");
  EXPECT_EQ(human_number(0.25), "0.25");
  EXPECT_EQ(human_number(1234567.0), "1234567");
  EXPECT_EQ(human_number(-3.0), "-3");
  EXPECT_EQ(human_number(-0.0001), "0");
  EXPECT_EQ(human_number(1.23456, 2), "1.23");
  EXPECT_EQ(human_number(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(human_number(std::nan("")), "nan");
}

TEST(Format, ExactNumberRoundTrips) {
  for (double v : {100000.2, 100000.4, 0.1, 1.0 / 3.0, 1e-9, 123456789.123456789, 30.0}) {
    const std::string s = exact_number(v);
    EXPECT_EQ(std::stod(s), v) << s;
  }
  EXPECT_NE(exact_number(100000.2), exact_number(100000.4));
  EXPECT_EQ(exact_number(30.0), "30");
}
