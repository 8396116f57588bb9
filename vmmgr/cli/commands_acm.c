/* `vmmgr acm …`: AWS Certificate Manager's commands, named and optioned as `aws acm` names them
 * (imported certificates only: what an HTTPS listener serves). */
#include <stddef.h>

#include "commands.h"

#define END { NULL, 0, NULL, NULL }
#define ACM_ARN { "certificate-arn", CLI_OPT_STR, "CertificateArn", "the certificate's ARN" }

static const cli_opt acm_import_opts[] = {
    { "certificate", CLI_OPT_BLOB, "Certificate", "fileb://cert.pem: the certificate (PEM)" },
    { "private-key", CLI_OPT_BLOB, "PrivateKey", "fileb://key.pem: its private key (PEM, not encrypted)" },
    { "certificate-chain", CLI_OPT_BLOB, "CertificateChain", "fileb://chain.pem: the intermediate certificates" },
    { "certificate-arn", CLI_OPT_STR, "CertificateArn", "an imported certificate's ARN: import again to renew it" },
    { "tags", CLI_OPT_SHORTHAND, "Tags.member", "Key=K,Value=V … (a new certificate's; up to 50)" },
    END,
};
static const cli_opt acm_arn_opts[] = {
    ACM_ARN,
    END,
};
static const cli_opt acm_list_opts[] = {
    { "certificate-statuses", CLI_OPT_LIST, "CertificateStatuses.member", "ISSUED, EXPIRED, … (all by default)" },
    { "max-items", CLI_OPT_STR, "MaxItems", "at most this many (1-1000)" },
    { "starting-token", CLI_OPT_STR, "NextToken", "the NextToken of an earlier page" },
    END,
};
static const cli_opt acm_tags_opts[] = {
    ACM_ARN,
    { "tags", CLI_OPT_SHORTHAND, "Tags.member", "Key=K,Value=V … (to remove: Key=K, or Key and Value to match)" },
    END,
};

static const cli_cmd acm_cmds[] = {
    { "import-certificate", "ImportCertificate", acm_import_opts,
      "Import a certificate and its key (or renew an imported one at its ARN)", false, "acm" },
    { "describe-certificate", "DescribeCertificate", acm_arn_opts,
      "Show a certificate's names, dates, key, serial and who uses it", false, "acm" },
    { "get-certificate", "GetCertificate", acm_arn_opts, "Show a certificate and its chain (PEM)", false, "acm" },
    { "list-certificates", "ListCertificates", acm_list_opts, "Show the certificates (ARN and domain name)", false,
      "acm" },
    { "delete-certificate", "DeleteCertificate", acm_arn_opts,
      "Delete a certificate (refused while a listener serves it)", true, "acm" },
    { "add-tags-to-certificate", "AddTagsToCertificate", acm_tags_opts, "Tag a certificate", true, "acm" },
    { "remove-tags-from-certificate", "RemoveTagsFromCertificate", acm_tags_opts, "Remove a certificate's tags",
      true, "acm" },
    { "list-tags-for-certificate", "ListTagsForCertificate", acm_arn_opts, "Show a certificate's tags", false,
      "acm" },
};

const cli_cmd *
cli_acm_cmds(size_t *ret_n)
{
    *ret_n = sizeof(acm_cmds) / sizeof(acm_cmds[0]);
    return acm_cmds;
}
