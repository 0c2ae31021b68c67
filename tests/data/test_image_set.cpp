// image_set (shape, split, subset, validation) and pixel scaling (round trips,
// exact bounds, bad values rejected without changing anything).

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include <sgm/data/image_set.hpp>
#include <sgm/data/painted_digits.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/error.hpp>

using Catch::Contains;
using sgm::data::image_set;
using sgm::data::pixel_range;

namespace {

// 5 images of 2×2×3 whose pixel values encode (image, offset): 100·i + k.
image_set<float> numbered_set(bool labels) {
    constexpr std::size_t count = 5, dim = 12;
    std::vector<float> pixels(count * dim);
    for (std::size_t i = 0; i < count; ++i)
        for (std::size_t k = 0; k < dim; ++k) pixels[i * dim + k] = float(100 * i + k);
    std::vector<int> l;
    if (labels) l = {3, 1, 4, 1, 5};
    return image_set<float>(count, 2, 2, 3, std::move(pixels), std::move(l));
}

bool holds_image(const image_set<float>& s, std::size_t pos, std::size_t original) {
    const auto img = s.sample(pos);
    for (std::size_t k = 0; k < img.size(); ++k)
        if (img[k] != float(100 * original + k)) return false;
    return true;
}

}  // namespace

TEST_CASE("image_set keeps its shape and exposes images in NCHW order", "[data][image_set]") {
    const auto s = numbered_set(true);
    CHECK(s.size() == 5);
    CHECK(s.channels() == 2);
    CHECK(s.height() == 2);
    CHECK(s.width() == 3);
    CHECK(s.dim() == 12);
    CHECK(s.pixels().size() == 60);
    REQUIRE(s.has_labels());
    CHECK(s.label(2) == 4);
    for (std::size_t i = 0; i < s.size(); ++i) CHECK(holds_image(s, i, i));
    // Channel-major inside an image: pixel (c, h, w) sits at c·H·W + h·W + w.
    CHECK(s.sample(3)[1 * 6 + 1 * 3 + 2] == 300 + 11);

    auto m = numbered_set(false);
    CHECK_FALSE(m.has_labels());
    m.sample(1)[0] = -7;
    CHECK(m.pixels()[12] == -7);
    REQUIRE_THROWS_WITH(m.label(0), Contains("the set has no labels"));
    REQUIRE_THROWS_WITH(m.sample(5), Contains("index 5 is out of range for a set of 5 images"));
}

TEST_CASE("image_set::split cuts after the first images, in order, with their labels", "[data][image_set]") {
    const auto s = numbered_set(true);
    const auto [head, tail] = s.split(3);
    REQUIRE(head.size() == 3);
    REQUIRE(tail.size() == 2);
    CHECK(head.dim() == 12);
    CHECK(tail.height() == 2);
    for (std::size_t i = 0; i < 3; ++i) CHECK(holds_image(head, i, i));
    for (std::size_t i = 0; i < 2; ++i) CHECK(holds_image(tail, i, 3 + i));
    CHECK(head.labels() == std::vector<int>{3, 1, 4});
    CHECK(tail.labels() == std::vector<int>{1, 5});

    const auto [all, none] = s.split(5);
    CHECK(all.size() == 5);
    CHECK(none.empty());
    CHECK(none.dim() == 12);
    CHECK(none.labels().empty());
    const auto [zero, rest] = numbered_set(false).split(0);
    CHECK(zero.empty());
    CHECK(rest.size() == 5);
    CHECK_FALSE(rest.has_labels());

    REQUIRE_THROWS_WITH(s.split(6), Contains("first_count = 6 exceeds the 5 images"));
}

TEST_CASE("image_set::subset picks images in the given order, repeats allowed", "[data][image_set]") {
    const auto s = numbered_set(true);
    const std::vector<std::size_t> pick{4, 0, 4, 2};
    const auto sub = s.subset(pick);
    REQUIRE(sub.size() == 4);
    for (std::size_t k = 0; k < pick.size(); ++k) CHECK(holds_image(sub, k, pick[k]));
    CHECK(sub.labels() == std::vector<int>{5, 3, 5, 4});
    CHECK(s.subset(std::vector<std::size_t>{}).empty());
    REQUIRE_THROWS_WITH(s.subset(std::vector<std::size_t>{1, 5}), Contains("indices[1] = 5 is out of range for a set of 5"));
}

TEST_CASE("image_set rejects inconsistent sizes, naming the values", "[data][image_set]") {
    using V = std::vector<float>;
    REQUIRE_THROWS_WITH(image_set<float>(2, 1, 2, 2, V(7)), Contains("got 7 pixel values") && Contains("= 8"));
    REQUIRE_THROWS_WITH(image_set<float>(2, 1, 2, 2, V(8), {1}), Contains("got 1 labels for 2 images"));
    REQUIRE_THROWS_WITH(image_set<float>(2, 1, 2, 2, V(8), {0, -1}), Contains("label[1] = -1"));
    REQUIRE_THROWS_WITH(image_set<float>(1, 0, 2, 2, V{}), Contains("channels = 0"));
    REQUIRE_THROWS_WITH(image_set<float>(1, 1, 2, 0, V{}), Contains("width = 0"));
    constexpr auto big = std::numeric_limits<std::size_t>::max() / 2;
    REQUIRE_THROWS_WITH(image_set<float>(1, 1, big, 4, V{}), Contains("overflows"));
    REQUIRE_THROWS_WITH(image_set<float>(big, 1, 2, 2, V{}), Contains("overflow"));
    REQUIRE_NOTHROW(image_set<float>(0, 1, 28, 28, V{}));
}

TEST_CASE("pixel scaling maps [0,1] to the model range and back", "[data][scaling]") {
    const std::vector<double> original{0.0, 1.0, 0.5, 0.25, 1e-12, 1 - 1e-12, 0.7};
    std::vector<double> v = original;
    sgm::data::to_range(std::span(v), pixel_range::symmetric);
    CHECK(v[0] == -1.0);
    CHECK(v[1] == 1.0);
    CHECK(v[2] == 0.0);
    CHECK(v[3] == -0.5);
    sgm::data::from_range(std::span(v), pixel_range::symmetric);
    // 2x - 1 rounds once (for x < 1/2); halving is exact: at most one ulp of 1 apart.
    for (std::size_t i = 0; i < v.size(); ++i)
        CHECK(std::abs(v[i] - original[i]) <= std::numeric_limits<double>::epsilon());

    std::vector<float> u{0.0f, 0.3f, 1.0f};
    sgm::data::to_range(std::span(u), pixel_range::unit);
    CHECK(u == std::vector<float>{0.0f, 0.3f, 1.0f});
    sgm::data::from_range(std::span(u), pixel_range::unit);
    CHECK(u == std::vector<float>{0.0f, 0.3f, 1.0f});

    // Round trip over every 8-bit level in float: off by at most one ulp of 1.
    std::vector<std::uint8_t> levels(256);
    std::iota(levels.begin(), levels.end(), 0);
    auto f = sgm::data::from_bytes<float>(levels);
    CHECK(f[0] == 0.0f);
    CHECK(f[255] == 1.0f);
    CHECK(f[51] == 0.2f);
    const auto before = f;
    sgm::data::to_range(std::span(f), pixel_range::symmetric);
    sgm::data::from_range(std::span(f), pixel_range::symmetric);
    for (std::size_t i = 0; i < f.size(); ++i)
        CHECK(std::abs(f[i] - before[i]) <= std::numeric_limits<float>::epsilon());
}

TEST_CASE("pixel scaling rejects non-finite and out-of-range values, changing nothing", "[data][scaling]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> v{0.5, 1.0000001, 0.2};
    REQUIRE_THROWS_WITH(sgm::data::to_range(std::span(v), pixel_range::symmetric),
                        Contains("to_range: value[1] = 1.0000001 is outside [0, 1]"));
    CHECK(v == std::vector<double>{0.5, 1.0000001, 0.2});
    v = {0.0, -1e-300};
    REQUIRE_THROWS_WITH(sgm::data::to_range(std::span(v), pixel_range::unit), Contains("value[1] = -1e-300 is outside [0, 1]"));
    v = {nan};
    REQUIRE_THROWS_WITH(sgm::data::to_range(std::span(v), pixel_range::unit),
                        Contains("value[0] = nan is not finite; expected a value in [0, 1]"));
    v = {-1.0, 1.0, -1.5};
    REQUIRE_THROWS_WITH(sgm::data::from_range(std::span(v), pixel_range::symmetric),
                        Contains("from_range: value[2] = -1.5 is outside [-1, 1]"));
    CHECK(v == std::vector<double>{-1.0, 1.0, -1.5});
    v = {0.5, -inf};
    REQUIRE_THROWS_WITH(sgm::data::from_range(std::span(v), pixel_range::symmetric), Contains("value[1] = -inf is not finite"));
    v = {-0.5};
    REQUIRE_THROWS_WITH(sgm::data::from_range(std::span(v), pixel_range::unit), Contains("value[0] = -0.5 is outside [0, 1]"));

    v = {-1.2, 0.3, 7.0};
    sgm::data::clip_to_range(std::span(v), pixel_range::symmetric);
    CHECK(v == std::vector<double>{-1.0, 0.3, 1.0});
    v = {-1.2, 0.3, 7.0};
    sgm::data::clip_to_range(std::span(v), pixel_range::unit);
    CHECK(v == std::vector<double>{0.0, 0.3, 1.0});
    v = {0.1, nan};
    REQUIRE_THROWS_WITH(sgm::data::clip_to_range(std::span(v), pixel_range::unit), Contains("value[1] = nan is not finite"));

    std::vector<std::uint8_t> levels{1, 2, 3};
    std::vector<float> out(2);
    REQUIRE_THROWS_WITH(sgm::data::from_bytes<float>(levels, out), Contains("3 input levels but room for 2"));
}

TEST_CASE("painted images: one hue per image, the gray image scaled in each channel", "[data][paint]") {
    using sgm::data::hue_color;
    const auto near = [](std::array<double, 3> a, std::array<double, 3> b) {
        return std::abs(a[0] - b[0]) < 1e-12 && std::abs(a[1] - b[1]) < 1e-12 && std::abs(a[2] - b[2]) < 1e-12;
    };
    CHECK(near(hue_color(0.0), {1, 0, 0}));
    CHECK(near(hue_color(1.0 / 6), {1, 1, 0}));
    CHECK(near(hue_color(1.0 / 3), {0, 1, 0}));
    CHECK(near(hue_color(0.5), {0, 1, 1}));
    CHECK(near(hue_color(2.0 / 3), {0, 0, 1}));
    CHECK(near(hue_color(5.0 / 6), {1, 0, 1}));
    CHECK(near(hue_color(1.0 / 12), {1, 0.5, 0}));

    const sgm::data::image_set<float> gray(3, 1, 2, 2, {0, 0.5f, 1, 0.25f, 1, 1, 1, 1, 0.2f, 0, 0, 0.8f}, {4, 7, 1});
    const auto painted = sgm::data::paint_images(gray, 100);
    REQUIRE(painted.channels() == 3);
    REQUIRE(painted.size() == 3);
    CHECK(painted.labels() == gray.labels());
    for (std::size_t i = 0; i < 3; ++i) {
        const auto rgb = hue_color(sgm::random::uniform<double>(sgm::data::default_paint_seed, 100 + i, 0, 0));
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t p = 0; p < 4; ++p)
                CHECK(painted.pixels()[(i * 3 + c) * 4 + p] == Approx(gray.pixels()[i * 4 + p] * rgb[c]).margin(1e-7));
    }
    // The same indices and seed give the same colours; other indices others.
    const auto again = sgm::data::paint_images(gray, 100);
    CHECK(std::vector<float>(painted.pixels().begin(), painted.pixels().end()) ==
          std::vector<float>(again.pixels().begin(), again.pixels().end()));
    const auto shifted = sgm::data::paint_images(gray, 101);
    CHECK(std::vector<float>(shifted.pixels().begin(), shifted.pixels().end()) !=
          std::vector<float>(painted.pixels().begin(), painted.pixels().end()));
    CHECK_THROWS_WITH(sgm::data::paint_images(painted, 0), Catch::Contains("3 channels; expected gray"));
}
