// What an event decided, in a few words: for metrics, logs, reports.
#ifndef MUTUALAID_EVENTS_OUTCOME_H_
#define MUTUALAID_EVENTS_OUTCOME_H_

#include <string>
#include <vector>

#include "mutualaid/v1/envelope.pb.h"

namespace mutualaid::events {

struct Outcome {
  std::string type;                  // the body's name, e.g. "claim_decided"
  std::string outcome;               // ACCEPTED, REJECTED, PENDING_REVIEW, APPROVED, DENIED,
                                     // INVESTIGATING, PAID, CONFIRMED, FAILED, … ("" if none)
  std::vector<std::string> reasons;  // the plan's reason codes, e.g. "WAITING_PERIOD"
  int64_t amount_fen = 0;            // approved or paid amount, if any
};

Outcome OutcomeOf(const v1::Envelope& event);

}  // namespace mutualaid::events

#endif  // MUTUALAID_EVENTS_OUTCOME_H_
