# bav-global.sieve - a global Sieve script (sieve_before) filing returned
# mail by the bav verdict; see bav-dovecot(7). Compile with sievec.
require ["vnd.bav", "fileinto", "mailbox", "imap4flags"];

# permanent failures together, for the list owner
if bav :hard {
  fileinto :create "Bounces/Hard";
  stop;
}
if bav :reason ["mailboxfull", "exceedlimit"] {
  fileinto :create "Bounces/Full";
  stop;
}
if bav :status :matches "4.*" {
  fileinto :create "Bounces/Delayed";
  stop;
}
# vacation notices out of the inbox, already read
if bav :kind "autoreply" {
  addflag "\\Seen";
  fileinto :create "Auto";
  stop;
}
if bav :kind "feedback" {
  fileinto :create "Complaints";
  stop;
}
