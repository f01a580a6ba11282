// make_id_number BIRTH [SEQUENCE [REGION]] — prints a valid 18-character ID
// number (GB 11643-1999, MOD 11-2 check char) for writing scenario files.
//   make_id_number 1990-01-01        → 310101199001011234
//   make_id_number 1990-01-01 007
#include <iostream>
#include <string>

#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/validation.h"

int main(int argc, char** argv) {
  absl::CivilDay birth;
  if (argc < 2 || argc > 4 || !mutualaid::plan::ParseIsoDate(argv[1], &birth)) {
    std::cerr << "usage: make_id_number YYYY-MM-DD [SEQUENCE(3 digits) [REGION(6 digits)]]\n";
    return 2;
  }
  const std::string sequence = argc > 2 ? argv[2] : "123";
  const std::string region = argc > 3 ? argv[3] : "310101";
  const std::string date = mutualaid::plan::FormatIsoDate(birth);
  const std::string first17 =
      region + date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2) + sequence;
  const char check = mutualaid::plan::IdNumberCheckChar(first17);
  if (check == '\0') {
    std::cerr << "make_id_number: need 3 sequence digits and 6 region digits\n";
    return 2;
  }
  std::cout << first17 << check << '\n';
  return 0;
}
