#pragma once
// A strict reader for the small JSON subset numeric data files use: objects with
// plain (escape-free) string keys, and arrays of numbers. Numbers follow the JSON
// grammar exactly (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); no NaN, Infinity,
// leading '+', hex, trailing commas or comments. Whitespace is space, tab, CR, LF.
// Every failure throws sgm::error naming the source, the byte offset and what was
// expected.

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "../error.hpp"

namespace sgm::data {

class json_numbers_reader {
public:
    json_numbers_reader(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

    [[nodiscard]] std::size_t offset() const { return pos_; }
    [[nodiscard]] const std::string& source() const { return source_; }

    void skip_whitespace() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
            ++pos_;
    }

    // Skips whitespace; consumes c and returns true when it comes next.
    bool consume(char c) {
        skip_whitespace();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void expect(char c, std::string_view what, std::string_view context = {}) {
        if (!consume(c)) fail(pos_, sgm::detail::concat("expected ", what), context);
    }

    // A string key without escapes (data files need none).
    [[nodiscard]] std::string parse_key() {
        skip_whitespace();
        if (pos_ >= text_.size() || text_[pos_] != '"') fail(pos_, "expected a string key");
        const std::size_t start = ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '\\') fail(pos_, "escape sequences are not supported in keys");
            if (c < 0x20) fail(pos_, "unescaped control character in a key");
            ++pos_;
        }
        if (pos_ >= text_.size()) fail(start - 1, "unterminated string key");
        return std::string(text_.substr(start, pos_++ - start));
    }

    // One number as a double; a value too large for double is an error.
    [[nodiscard]] double parse_number() {
        return parse_number_in([] { return std::string(); });
    }

    // '[' number (',' number)* ']' or '[]'. Calls on_value(index, value, byte offset)
    // for each element in order. context(index) -> std::string describes element
    // `index` in messages; it is called only when there is an error.
    template <class OnValue, class Context>
    std::size_t parse_number_array(OnValue&& on_value, Context&& context) {
        expect('[', "'[' opening an array of numbers");
        if (consume(']')) return 0;
        std::size_t index = 0;
        while (true) {
            skip_whitespace();
            const std::size_t at = pos_;
            const auto here = [&] { return context(index); };
            if (at >= text_.size()) fail(at, "unexpected end of the text; expected a number", here());
            const double v = parse_number_in(here);
            on_value(index, v, at);
            if (consume(']')) return index + 1;
            skip_whitespace();
            if (pos_ >= text_.size())
                fail(pos_, "unexpected end of the text; expected ',' or ']' after a number", here());
            if (!consume(',')) fail(pos_, "expected ',' or ']' after a number", here());
            ++index;
        }
    }

    // Only whitespace may follow.
    void expect_end() {
        skip_whitespace();
        if (pos_ != text_.size()) fail(pos_, "unexpected data after the end of the JSON value");
    }

    [[noreturn]] void fail(std::size_t at, std::string_view what, std::string_view context = {}) const {
        throw error(sgm::detail::concat(source_, ": ", context, context.empty() ? "" : ": ", "byte ", at, ": ",
                                        what, near(at)));
    }

private:
    template <class Context>
    [[nodiscard]] double parse_number_in(Context&& context) {
        skip_whitespace();
        const std::size_t start = pos_;
        std::size_t p = pos_;
        const auto digit = [&](std::size_t i) { return i < text_.size() && text_[i] >= '0' && text_[i] <= '9'; };
        if (p < text_.size() && text_[p] == '-') ++p;
        if (!digit(p)) fail(start, "expected a number", context());
        if (text_[p] == '0') {
            ++p;
            if (digit(p)) fail(start, "number with a leading zero", context());
        } else {
            while (digit(p)) ++p;
        }
        if (p < text_.size() && text_[p] == '.') {
            ++p;
            if (!digit(p)) fail(start, "expected digits after the decimal point", context());
            while (digit(p)) ++p;
        }
        if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
            ++p;
            if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
            if (!digit(p)) fail(start, "expected digits in the exponent", context());
            while (digit(p)) ++p;
        }
        double value = 0;
        const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + p, value);
        if (ec == std::errc::result_out_of_range) fail(start, "number out of the range of double", context());
        if (ec != std::errc{} || end != text_.data() + p) fail(start, "malformed number", context());
        pos_ = p;
        return value;
    }

    // A short printable excerpt of the text at `at`.
    [[nodiscard]] std::string near(std::size_t at) const {
        if (at >= text_.size()) return " (at the end of the text)";
        std::string out = " (near '";
        for (std::size_t i = at; i < text_.size() && i < at + 16; ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
        }
        return out + "')";
    }

    std::string_view text_;
    std::string source_;
    std::size_t pos_ = 0;
};

}  // namespace sgm::data
