// bench_common.h — small helpers shared by the bench programs: argument
// parsing, wall clocks and one-line JSON records on stdout (bench/run.sh
// collects them; human notes go to stderr).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Minimal "--key value" / "--flag" / positional parser.
class Args {
 public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc) {}

  bool flag(std::string_view name) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i));
        return true;
      }
    }
    return false;
  }
  std::string value(std::string_view name, const std::string& fallback) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == name) {
        if (i + 1 >= args_.size()) throw std::invalid_argument(std::string(name) + " needs a value");
        std::string v = args_[i + 1];
        args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i), args_.begin() + static_cast<std::ptrdiff_t>(i) + 2);
        return v;
      }
    }
    return fallback;
  }
  double number(std::string_view name, double fallback) {
    const std::string v = value(name, "");
    if (v.empty()) return fallback;
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument(std::string(name) + ": not a number: " + v);
    return d;
  }
  // Whatever is left once every option was taken; unknown options are errors.
  std::vector<std::string> positional() const {
    for (const auto& a : args_)
      if (a.size() > 2 && a.rfind("--", 0) == 0) throw std::invalid_argument("unknown option " + a);
    return args_;
  }

 private:
  std::vector<std::string> args_;
};

inline std::string json_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o;
}

// One JSON object on one line: JsonLine().str("k","v").num("n",1).print();
class JsonLine {
 public:
  JsonLine& str(const std::string& k, const std::string& v) {
    sep();
    os_ << '"' << json_escape(k) << "\":\"" << json_escape(v) << '"';
    return *this;
  }
  JsonLine& num(const std::string& k, double v) {
    sep();
    os_.precision(10);
    os_ << '"' << json_escape(k) << "\":" << v;
    return *this;
  }
  JsonLine& boolean(const std::string& k, bool v) {
    sep();
    os_ << '"' << json_escape(k) << "\":" << (v ? "true" : "false");
    return *this;
  }
  void print() const { std::cout << '{' << os_.str() << '}' << std::endl; }

 private:
  void sep() {
    if (!first_) os_ << ',';
    first_ = false;
  }
  std::ostringstream os_;
  bool first_ = true;
};

}  // namespace bench
