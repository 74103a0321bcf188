// base64, hex, percent-encoding and UUID v4 helpers of common/encoding.
#include "common/encoding.hpp"

#include <gtest/gtest.h>

#include <set>

namespace openbatch::encoding {
namespace {

TEST(Base64, EncodesRfc4648TestVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Base64, DecodesWhatItEncodesIncludingBinary) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    auto decoded = base64_decode(base64_encode(part));
    ASSERT_TRUE(decoded) << n;
    EXPECT_EQ(*decoded, part) << n;
  }
  EXPECT_EQ(*base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*base64_decode("Zm9vYmE="), "fooba");
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad :
       {"Zm9", "Zm9v\n", " Zm9v", "Zm9v====", "Z===", "Zm=v", "Zm9*", "Zg=a", "=Zm9"}) {
    auto r = base64_decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidBase64Value") << bad;
  }
}

TEST(Hex, RoundTripsAndRejectsNonHex) {
  EXPECT_EQ(hex_encode(std::string("\x00\x7f\xff", 3)), "007fff");
  EXPECT_EQ(*hex_decode("007FfF"), std::string("\x00\x7f\xff", 3));
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
}

TEST(PercentDecode, QueryValuesTurnPlusIntoSpaceButPathSegmentsDoNot) {
  EXPECT_EQ(*percent_decode_query_value("state+eq+%27active%27"), "state eq 'active'");
  EXPECT_EQ(*percent_decode_path_segment("a+b%2Fc%20d"), "a+b/c d");
  EXPECT_EQ(*percent_decode_query_value("%e2%82%ac"), "\xe2\x82\xac");
}

TEST(PercentDecode, StrictDecodingRejectsMalformedEscapes) {
  for (const char* bad : {"%", "%2", "abc%zz", "%G0"}) {
    auto r = percent_decode_query_value(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().code, "InvalidUri");
  }
}

TEST(PercentDecode, LenientDecodingKeepsMalformedEscapesLiterally) {
  EXPECT_EQ(percent_decode_lenient("100%+sure%2", PlusMeans::Space), "100% sure%2");
  EXPECT_EQ(percent_decode_lenient("%41%zz", PlusMeans::Plus), "A%zz");
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode_component("wd/out put.txt"), "wd%2Fout%20put.txt");
  EXPECT_EQ(percent_encode_component("state eq 'active'"), "state%20eq%20%27active%27");
  EXPECT_EQ(percent_encode_component("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(percent_encode_component("!*()"), "%21%2A%28%29");
  EXPECT_EQ(percent_encode_component("a+b&c=d?#%"), "a%2Bb%26c%3Dd%3F%23%25");
  EXPECT_EQ(percent_encode_component("\xe2\x82\xac"), "%E2%82%AC");
}

TEST(Uuid, IsVersionFourInCanonicalFormAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = uuid_v4();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[14], '4');
    EXPECT_EQ(id[18], '-');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_EQ(id[23], '-');
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace openbatch::encoding
