#!/usr/bin/env bash
# Writes the seed corpora of the service and envelope fuzz targets from the
# text-format messages below (protoc --encode), each prefixed with the bytes
# the target reads first (message selector, then caller / payee / topic).
#
#   bash tests/fuzz/make-seeds.sh     # rewrites tests/fuzz/corpus/{*_requests,envelope}/
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
corpus=tests/fuzz/corpus

# seed <target> <file> <prefix bytes as \x..> <message type> <text>
seed() {
  local dir=$corpus/$1 file=$2 prefix=$3 type=$4 text=$5
  mkdir -p "$dir"
  {
    printf "$prefix"
    protoc -I proto -I /usr/include --encode="mutualaid.v1.$type" \
      proto/mutualaid/v1/envelope.proto proto/mutualaid/v1/admin.proto <<<"$text"
  } >"$dir/$file"
}
rm -rf "$corpus"/{enrollment_requests,claims_requests,payout_requests,notification_requests,envelope}

record='platform_record_id: "r-0001" name: "张三" id_number: "310101199001011234"
        phone: "13800138000" industry: "FOOD_DELIVERY"
        fee_split { platform_fen: 1000 worker_fen: 0 }'

# --- enrollment: 0 record, 1 submit, 2 phone, 3 review, 4 platform, 5-8 reads
e=enrollment_requests
seed $e record_valid '\x00' EnrollmentRecord "$record"
seed $e record_bad_id '\x00' EnrollmentRecord 'platform_record_id: "r-2" name: "李四" id_number: "31010119900101123X" phone: "13800138001" industry: "RIDE_HAILING"'
seed $e record_no_id '\x00' EnrollmentRecord 'name: "王五" id_number: "310101199001011234"'
seed $e record_negative_fee '\x00' EnrollmentRecord 'platform_record_id: "r-3" fee_split { worker_fen: -1 }'
seed $e submit_two '\x01' SubmitEnrollmentsRequest "records { $record } records { platform_record_id: \"r-0002\" name: \"Anna Li\" id_number: \"110101200001010011\" phone: \"+8613912345678\" industry: \"EXPRESS_DELIVERY\" }"
seed $e phone_change '\x02' ChangeContactPhoneRequest 'id_number: "310101199001011234" plan_year: 2022 new_phone: "13900001111"'
seed $e phone_bad '\x02' ChangeContactPhoneRequest 'id_number: "310101199001011234" plan_year: 2022 new_phone: "12345"'
seed $e review_approve '\x03' DecideReviewRequest 'enrollment_id: "e-1" approve: true'
seed $e review_reject_no_reason '\x03' DecideReviewRequest 'enrollment_id: "e-1" approve: false'
seed $e register_platform '\x04' RegisterPlatformRequest 'platform { platform_id: "P01" name: "某外卖平台" payout_account: "6222020000000001" contact_phone: "13800000000" }'
seed $e get '\x05' GetEnrollmentRequest 'id_number: "310101199001011234" plan_year: 2022'
seed $e list '\x06' ListEnrollmentsRequest 'platform_id: "P01" year: 2022 month: 6 page { page_size: 10 }'
seed $e statement '\x07' GetMonthlyStatementRequest 'platform_id: "P01" year: 2022 month: 6'
seed $e review_queue '\x08' ListReviewQueueRequest 'page { page_size: 5 page_token: "AAAA" }'

# --- claims: 0 file (caller 0 hall, 1 浦东新区, 2 platform P01, 3 徐汇区), 1 verdict (benefit), 2-6 reads
c=claims_requests
card='payee_card { kind: CARD_KIND_UNION_MEMBER_CARD card_number: "6222021234567894" holder_name: "张三" }'
seed $c hospital_hall '\x00\x00' FileClaimRequest "application { claim_id: \"c-1\" id_number: \"310101199001011234\" site: \"服务大厅\" $card facts { benefit: BENEFIT_HOSPITAL_ALLOWANCE claimant: CLAIMANT_WORKER cause: CAUSE_ILLNESS hospital: HOSPITAL_KIND_DESIGNATED_HOSPITAL admission { year: 2022 month: 5 day: 1 } discharge { year: 2022 month: 5 day: 9 } } }"
seed $c critical_district '\x00\x01' FileClaimRequest "application { claim_id: \"c-2\" id_number: \"310101199001011234\" site: \"浦东新区\" $card facts { benefit: BENEFIT_CRITICAL_ILLNESS claimant: CLAIMANT_WORKER category: CRITICAL_ILLNESS_CATEGORY_MALIGNANT_TUMOR diagnosed_on { year: 2022 month: 5 day: 20 } } }"
seed $c death_platform '\x00\x02' FileClaimRequest 'application { claim_id: "c-3" id_number: "310101199001011234" site: "服务大厅" facts { benefit: BENEFIT_ACCIDENTAL_DEATH accident_id: "a-1" accident_on { year: 2022 month: 6 day: 1 } died_on { year: 2022 month: 6 day: 2 } in_shanghai: true } }'
seed $c disability_wrong_district '\x00\x03' FileClaimRequest "application { claim_id: \"c-4\" id_number: \"310101199001011234\" site: \"浦东新区\" $card facts { benefit: BENEFIT_ACCIDENTAL_DISABILITY accident_id: \"a-2\" accident_on { year: 2022 month: 3 day: 1 } assessed_on { year: 2022 month: 6 day: 1 } grade: 8 } }"
seed $c bad_card '\x00\x00' FileClaimRequest 'application { claim_id: "c-5" id_number: "310101199001011234" site: "服务大厅" payee_card { kind: CARD_KIND_SHANGHAI_DEBIT_CARD card_number: "6222021234567890" } facts { benefit: BENEFIT_COVID19 diagnosed_on { year: 2022 month: 4 day: 2 } hospitalized: true } }'
seed $c verdict_approve_corrected '\x01\x01' DecideInvestigationRequest 'claim_id: "c-1" approve: true corrected_facts { cause: CAUSE_ILLNESS hospital: HOSPITAL_KIND_DESIGNATED_HOSPITAL admission { year: 2022 month: 5 day: 1 } discharge { year: 2022 month: 5 day: 5 } }'
seed $c verdict_deny '\x01\x02' DecideInvestigationRequest 'claim_id: "c-2" approve: false reason: "材料不实"'
seed $c get '\x02\x00' GetClaimRequest 'claim_id: "c-1"'
seed $c list '\x03\x00' ListClaimsRequest 'site: "浦东新区" due_from { year: 2022 month: 6 day: 1 } page { page_size: 10 }'
seed $c entitlements '\x04\x00' GetEntitlementsRequest 'id_number: "310101199001011234" plan_year: 2022'
seed $c investigations '\x05\x00' ListInvestigationsRequest 'site: "服务大厅"'
seed $c due '\x06\x00' ListDueClaimsRequest 'within_days: 10'

# --- payout: 0 reissue (payee 0 none, 1 worker card, 2 platform account), 1 import, 2-5 reads
p=payout_requests
seed $p reissue_card '\x00\x01' ReissuePayoutRequest 'claim_id: "c-1" reason: "卡号错误" corrected_card { kind: CARD_KIND_SHANGHAI_DEBIT_CARD card_number: "6222021234567894" }'
seed $p reissue_platform '\x00\x02' ReissuePayoutRequest 'claim_id: "c-3" reason: "账户变更" corrected_card { card_number: "12345678901" }'
seed $p reissue_no_reason '\x00\x01' ReissuePayoutRequest 'claim_id: "c-1"'
seed $p import_content '\x01\x00' ImportBankResultsRequest 'file_name: "results-20220615.csv" content: "idempotency_key,status,transfer_id,reason\r\npayout-c-1/1,CONFIRMED,T0001,\r\npayout-c-2/1,FAILED,,account closed\r\n\"payout-c-3/1\",RETURNED,T0003,\"name, mismatch\"\r\nbroken-row\r\n"'
seed $p import_bad_header '\x01\x00' ImportBankResultsRequest 'content: "key,status\nx,CONFIRMED\n"'
seed $p import_file_name '\x01\x00' ImportBankResultsRequest 'file_name: "../etc/passwd"'
seed $p get '\x02\x00' GetPayoutRequest 'claim_id: "c-1"'
seed $p list '\x03\x00' ListPayoutsRequest 'page { page_size: 3 }'
seed $p reconciliation '\x04\x00' GetReconciliationReportRequest ''
seed $p at_risk '\x05\x00' ListAtRiskRequest 'within_days: 5'

# --- notification: 0 resend, 1 list
n=notification_requests
seed $n resend '\x00' ResendMessageRequest 'message_id: "sms-1"'
seed $n resend_empty '\x00' ResendMessageRequest ''
seed $n list '\x01' ListMessagesRequest 'id_number: "310101199001011234" page { page_size: 20 }'

# --- envelope: topic 0 enrollment.requests 1 enrollment.events 2 claims.requests
# 3 claims.events 4 payout.requests 5 payout.events 6 notification.requests 7 notification.events
v=envelope
head='event_id: "ev-1" worker_key: "wk1" occurred_on { year: 2022 month: 6 day: 15 } recorded_at { seconds: 1655260200 } causation_id: "P01/r-0001" producer: "fuzz" schema_version: 1'
seed $v enrollment_requested '\x00' Envelope "$head enrollment_requested { request_id: \"P01/r-0001\" platform_id: \"P01\" record { $record } application_date { year: 2022 month: 6 day: 15 } caller: \"platform:P01\" }"
seed $v enrollment_accepted '\x01' Envelope "$head type: \"enrollment_accepted\" rule_set_version: \"sh-gig-mutual-aid-2022\" enrollment_accepted { enrollment { enrollment_id: \"e-1\" platform_id: \"P01\" plan_year: 2022 status: ENROLLMENT_STATUS_ACCEPTED coverage_start { year: 2022 month: 6 day: 16 } coverage_end { year: 2022 month: 12 day: 31 } person { name: \"张三\" id_number: \"310101199001011234\" phone: \"13800138000\" } } approved_by: \"auto\" }"
seed $v claim_filed '\x02' Envelope "$head claim_filed { application { claim_id: \"c-1\" id_number: \"310101199001011234\" site: \"服务大厅\" $card facts { benefit: BENEFIT_HOSPITAL_ALLOWANCE cause: CAUSE_ILLNESS hospital: HOSPITAL_KIND_DESIGNATED_HOSPITAL admission { year: 2022 month: 5 day: 1 } discharge { year: 2022 month: 5 day: 9 } } } received_on { year: 2022 month: 6 day: 15 } caller: \"hall:wang\" }"
seed $v claim_decided_approved '\x03' Envelope "$head type: \"claim_decided\" claim_decided { claim { claim_id: \"c-1\" status: CLAIM_STATUS_APPROVED facts { benefit: BENEFIT_HOSPITAL_ALLOWANCE } received_on { year: 2022 month: 6 day: 15 } decision { amount_fen: 80000 reasons: [] } } filed { application { claim_id: \"c-1\" site: \"服务大厅\" $card } } }"
seed $v claim_decided_denied '\x83' Envelope "$head type: \"claim_decided\" claim_decided { claim { claim_id: \"c-9\" status: CLAIM_STATUS_DENIED facts { benefit: BENEFIT_CRITICAL_ILLNESS } } }"
seed $v newer_schema '\x01' Envelope 'event_id: "ev-2" schema_version: 2 platform_registered { platform { platform_id: "P02" } }'
seed $v no_body '\x05' Envelope 'event_id: "ev-3" schema_version: 1'
seed $v payout_command_reissue '\x04' PayoutCommand 'request_id: "reissue/c-1/x" worker_key: "wk1" caller: "finance:qian" reissue { claim_id: "c-1" reason: "卡号错误" corrected_card { kind: CARD_KIND_UNION_MEMBER_CARD card_number: "6222021234567894" } }'
seed $v payout_command_bank '\x04' PayoutCommand 'request_id: "import/b/2" worker_key: "wk1" bank_result { idempotency_key: "payout-c-1/1" status: "CONFIRMED" transfer_id: "T1" line: 2 }'
seed $v sms_command '\x06' SmsCommand 'request_id: "sms-resend/x" worker_key: "wk1" caller: "operations:ops" resend { message_id: "sms-1" }'
seed $v payout_failed '\x05' Envelope "$head payout_failed { }"
seed $v sms_failed '\x07' Envelope "$head sms_failed { }"
echo "seeds written under $corpus/"
