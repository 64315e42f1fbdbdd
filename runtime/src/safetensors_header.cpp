// The scan that checks a safetensors header before it is parsed, and the
// parse itself.
#include "safetensors_header.h"

#include "file_io.h"

#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace gradc {
namespace {

using json = nlohmann::json;

// A real safetensors header is three levels deep and has a handful of JSON
// values per tensor; these bounds keep a hostile header from turning a
// 100 MB text into gigabytes of parsed JSON.
constexpr size_t kMaxHeaderDepth = 8;
constexpr size_t kMaxHeaderValues = 4'000'000;
// Far more tensors than any model has; the bound keeps a header of tiny
// entries from costing more than a moment.
constexpr size_t kMaxTensors = 100'000;

// Walks a header's JSON once without building it, to check what the
// parsed tree must not have: too deep a nesting or too many values (a
// hostile 100 MB header would parse into gigabytes), too many tensors, or
// a key twice in one object (the parser would keep the last silently, so
// a file could say two things about one tensor). nlohmann's callback
// parser could count as it builds, but it takes time quadratic in the
// number of an object's members.
class HeaderCheck final : public json::json_sax_t {
public:
  enum class Problem { None, Syntax, TooComplex, TooManyTensors, Duplicate };

  Problem problem = Problem::None;
  std::string detail; // the syntax error, or the duplicate key

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t &) override {
    return value();
  }
  bool string(string_t &) override { return value(); }
  bool binary(binary_t &) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t &name) override {
    if (!keys_.back().insert(name).second)
      return stop(Problem::Duplicate, name);
    if (keys_.size() == 1 && name != "__metadata__" && ++tensors_ > kMaxTensors)
      return stop(Problem::TooManyTensors, "");
    return true;
  }

  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &error) override {
    // nlohmann prefixes its messages with an id the user has no use for.
    std::string_view message = error.what();
    if (auto end = message.find("] "); end != std::string_view::npos)
      message.remove_prefix(end + 2);
    return stop(Problem::Syntax, std::string(message));
  }

private:
  bool value() {
    return ++values_ <= kMaxHeaderValues || stop(Problem::TooComplex, "");
  }
  bool open() {
    if (!value() || keys_.size() >= kMaxHeaderDepth)
      return stop(Problem::TooComplex, "");
    keys_.emplace_back();
    return true;
  }
  bool close() {
    keys_.pop_back();
    return true;
  }
  bool stop(Problem found, std::string what) {
    problem = found;
    detail = std::move(what);
    return false;
  }

  // The keys of each object open now, outermost first; arrays have an
  // empty set, so that the depth is the size.
  std::vector<std::set<std::string>> keys_;
  size_t values_ = 0;
  size_t tensors_ = 0;
};

} // namespace

json parseSafeTensorsHeader(const std::string &path, const std::string &text) {
  HeaderCheck check;
  if (!json::sax_parse(text, &check)) {
    switch (check.problem) {
    case HeaderCheck::Problem::Duplicate:
      fail(path, "the safetensors header has the key '{}' twice in one object",
           check.detail);
    case HeaderCheck::Problem::TooManyTensors:
      fail(path,
           "the safetensors header lists more than {} tensors, more than "
           "any model the trainer builds",
           kMaxTensors);
    case HeaderCheck::Problem::TooComplex:
      fail(path, "the safetensors header is too deeply nested or too large "
                 "to be real");
    case HeaderCheck::Problem::Syntax:
    case HeaderCheck::Problem::None:
      break;
    }
    fail(path, "the safetensors header is not valid JSON: {}", check.detail);
  }
  return json::parse(text);
}

} // namespace gradc
