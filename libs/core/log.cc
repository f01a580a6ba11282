#include "mutualaid/core/log.h"

#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace mutualaid {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one UTF-8 code point from the front of `*s` and advances past it.
// Malformed input (bad lead byte, truncated or overlong sequence, surrogate,
// beyond U+10FFFF) yields U+FFFD and consumes one byte.
char32_t NextCodePoint(absl::string_view* s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t n = s->size();
  const unsigned char b0 = p[0];
  if (b0 < 0x80) {
    s->remove_prefix(1);
    return b0;
  }
  size_t len;
  char32_t cp;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    s->remove_prefix(1);
    return kReplacement;
  }
  if (n < len) {
    s->remove_prefix(1);
    return kReplacement;
  }
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) {
      s->remove_prefix(1);
      return kReplacement;
    }
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    s->remove_prefix(1);
    return kReplacement;
  }
  s->remove_prefix(len);
  return cp;
}

void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<char32_t> CodePoints(absl::string_view s) {
  std::vector<char32_t> cps;
  while (!s.empty()) cps.push_back(NextCodePoint(&s));
  return cps;
}

// Keeps the first `head` and last `tail` code points, one '*' for each one in
// between; all '*' when that would reveal everything.
std::string KeepEnds(absl::string_view s, size_t head, size_t tail) {
  const std::vector<char32_t> cps = CodePoints(absl::StripAsciiWhitespace(s));
  std::string out;
  if (cps.size() <= head + tail) return std::string(cps.size(), '*');
  for (size_t i = 0; i < cps.size(); ++i) {
    if (i < head || i >= cps.size() - tail) {
      AppendUtf8(&out, cps[i]);
    } else {
      out.push_back('*');
    }
  }
  return out;
}

std::string FormatTs(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", t, ShanghaiTimeZone());
}

std::string JsonString(absl::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

class StderrSink final : public LogSink {
 public:
  void Write(absl::string_view line) override {
    // One write(2) per line (O_APPEND-like semantics on a shared stderr);
    // loop only for partial writes, which happen for very long lines.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // Nowhere left to report a failing stderr.
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
};

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  while (!s.empty()) {
    const char32_t cp = NextCodePoint(&s);
    switch (cp) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(cp));
        } else {
          AppendUtf8(out, cp);
        }
    }
  }
  out->push_back('"');
}

LogField::LogField(absl::string_view key, absl::string_view value)
    : key_(key), json_(JsonString(value)) {}
LogField::LogField(absl::string_view key, const char* value)
    : LogField(key, absl::string_view(value == nullptr ? "" : value)) {}
LogField::LogField(absl::string_view key, const std::string& value)
    : LogField(key, absl::string_view(value)) {}
LogField::LogField(absl::string_view key, bool value)
    : key_(key), json_(value ? "true" : "false") {}
LogField::LogField(absl::string_view key, absl::Duration value)
    : LogField(key, absl::FormatDuration(value)) {}
LogField::LogField(absl::string_view key, absl::Time value)
    : LogField(key, FormatTs(value)) {}
LogField::LogField(absl::string_view key, absl::CivilDay value)
    : LogField(key, absl::FormatCivilTime(value)) {}
LogField::LogField(absl::string_view key, const absl::Status& value)
    : LogField(key, value.ToString()) {}

LogSink& StderrLogSink() {
  static StderrSink* const sink = new StderrSink;
  return *sink;
}

Logger::Logger(std::string component, const Clock* clock, LogSink* sink,
               LogLevel min_level)
    : component_(std::move(component)),
      clock_(clock != nullptr ? clock : &SystemClock::Default()),
      sink_(sink != nullptr ? sink : &StderrLogSink()),
      min_level_(min_level) {}

std::string Logger::Format(LogLevel level, absl::string_view message,
                           std::initializer_list<LogField> fields) const {
  std::string line = "{\"ts\":";
  AppendJsonString(&line, FormatTs(clock_->Now()));
  absl::StrAppend(&line, ",\"level\":\"", LogLevelName(level),
                  "\",\"component\":");
  AppendJsonString(&line, component_);
  line.append(",\"msg\":");
  AppendJsonString(&line, message);
  for (const LogField& f : fields) {
    line.push_back(',');
    const std::string& k = f.key();
    if (k == "ts" || k == "level" || k == "component" || k == "msg") {
      AppendJsonString(&line, absl::StrCat("_", k));
    } else {
      AppendJsonString(&line, k);
    }
    line.push_back(':');
    line.append(f.json());
  }
  line.push_back('}');
  return line;
}

void Logger::Log(LogLevel level, absl::string_view message,
                 std::initializer_list<LogField> fields) const {
  if (!Enabled(level)) return;
  std::string line = Format(level, message, fields);
  line.push_back('\n');
  sink_->Write(line);
}

std::string MaskIdNumber(absl::string_view id_number) {
  return KeepEnds(id_number, 4, 2);
}

std::string MaskPhone(absl::string_view phone) { return KeepEnds(phone, 3, 4); }

std::string MaskCardNumber(absl::string_view card_number) {
  std::string digits;
  for (char c : card_number) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  if (digits.size() < 4) return "****";
  return absl::StrCat("**** ", digits.substr(digits.size() - 4));
}

std::string MaskName(absl::string_view name) {
  absl::string_view s = absl::StripAsciiWhitespace(name);
  if (s.empty()) return "";
  std::string out;
  AppendUtf8(&out, NextCodePoint(&s));
  out.push_back('*');
  return out;
}

}  // namespace mutualaid
