// `mutualctl sms`: a worker's SMS as the notification service holds them
// (texts and phones masked), and an operator's resend of a failed one.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_SMS_H_
#define MUTUALAID_TOOLS_MUTUALCTL_SMS_H_

namespace mutualaid::mutualctl {

// mutualctl sms list --id-number ID [--json] [conn] | sms resend MESSAGE_ID [--json] [conn]
int RunSmsCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_SMS_H_
