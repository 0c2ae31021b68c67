#pragma once
// A small strict JSON reader and writer for the safetensors header subset:
// objects, strings (all escapes, \uXXXX with surrogate pairs) and
// non-negative integers. Internal to sgm::io; users include safetensors.hpp.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "../error.hpp"

namespace sgm::io::detail {

// Offset of the first byte that is not part of valid UTF-8 (no overlong
// forms, surrogates or code points above U+10FFFF), or npos when all valid.
[[nodiscard]] inline std::size_t invalid_utf8_at(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = p[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t len = 0;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;  // U+D800..DFFF are surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else return i;
        if (n - i < len) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return std::string_view::npos;
}

// Appends the code point as UTF-8.
inline void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Appends s as a JSON string literal, escaped as serde_json does (so the
// bytes match the reference writer): ", \ and control characters only.
inline void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xF];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

// Cursor over a JSON text. Every failure throws sgm::error naming the byte
// offset (within the text, and within the file via `base`) and what was expected.
class json_reader {
public:
    json_reader(std::string_view text, std::string_view source, std::size_t base)
        : text_(text), source_(source), base_(base) {}

    [[nodiscard]] std::size_t offset() const { return pos_; }
    [[nodiscard]] bool at_end() const { return pos_ == text_.size(); }

    void skip_whitespace() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    // Skips whitespace; the next byte, or -1 at the end.
    [[nodiscard]] int peek() {
        skip_whitespace();
        return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1;
    }

    // Skips whitespace; true (and consumes it) when the next byte is c.
    bool consume(char c) {
        skip_whitespace();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void expect(char c, std::string_view what) {
        if (!consume(c)) syntax_error(pos_, concat("expected ", what));
    }

    [[nodiscard]] std::string parse_string() {
        skip_whitespace();
        if (pos_ >= text_.size() || text_[pos_] != '"') syntax_error(pos_, "expected a string");
        const std::size_t start = pos_++;
        std::string out;
        while (true) {
            if (pos_ >= text_.size()) syntax_error(start, "unterminated string");
            const char c = text_[pos_];
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20)
                syntax_error(pos_, "unescaped control character in a string");
            if (c != '\\') {
                out += c;
                ++pos_;
                continue;
            }
            const std::size_t escape_at = pos_++;
            if (pos_ >= text_.size()) syntax_error(start, "unterminated string");
            switch (text_[pos_++]) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    std::uint32_t cp = parse_hex4(escape_at);
                    if (cp >= 0xDC00 && cp <= 0xDFFF) syntax_error(escape_at, "lone low surrogate in a \\u escape");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (text_.substr(pos_, 2) != "\\u")
                            syntax_error(escape_at, "high surrogate not followed by a \\u low surrogate");
                        const std::size_t low_at = pos_;
                        pos_ += 2;
                        const std::uint32_t low = parse_hex4(low_at);
                        if (low < 0xDC00 || low > 0xDFFF)
                            syntax_error(low_at, "high surrogate not followed by a low surrogate");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: syntax_error(escape_at, "invalid escape sequence in a string");
            }
        }
    }

    // A non-negative integer without sign, fraction, exponent or leading zeros.
    [[nodiscard]] std::uint64_t parse_uint() {
        skip_whitespace();
        const std::size_t start = pos_;
        if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
            syntax_error(pos_, "expected a non-negative integer");
        std::uint64_t value = 0;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
            if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
                syntax_error(start, "integer does not fit in 64 bits");
            value = value * 10 + digit;
            ++pos_;
        }
        if (text_[start] == '0' && pos_ - start > 1) syntax_error(start, "integer with a leading zero");
        if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
            syntax_error(start, "expected an integer, found a fractional or exponent number");
        return value;
    }

    // A problem with the header's content at header byte `at`.
    [[noreturn]] void fail(std::size_t at, const std::string& what) const {
        throw error(concat(source_, ": header byte ", at, " (file byte ", base_ + at, "): ", what, near(at)));
    }
    // A JSON syntax error at header byte `at`.
    [[noreturn]] void syntax_error(std::size_t at, const std::string& what) const {
        fail(at, "invalid JSON: " + what);
    }

private:
    template <class... Parts>
    static std::string concat(const Parts&... parts) { return sgm::detail::concat(parts...); }

    std::uint32_t parse_hex4(std::size_t escape_at) {
        if (text_.size() - pos_ < 4) syntax_error(escape_at, "truncated \\u escape");
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else syntax_error(escape_at, "\\u escape needs 4 hex digits");
        }
        return v;
    }

    // A short printable excerpt of the text at `at`, for the message.
    [[nodiscard]] std::string near(std::size_t at) const {
        if (at >= text_.size()) return " (at the end of the header)";
        std::string out = " (near '";
        for (std::size_t i = at; i < text_.size() && i < at + 16; ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
        }
        return out + "')";
    }

    std::string_view text_;
    std::string_view source_;
    std::size_t base_;
    std::size_t pos_ = 0;
};

}  // namespace sgm::io::detail
