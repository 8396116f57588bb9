#include "ids.h"

#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

void
vm_id_new(const char *prefix, char buf[VM_ID_MAX])
{
    uuid_t u;
    uuid_generate_random(u);
    char hex[33];
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", u[i]);
    /* 17 digits: skip the version nibble (hex[12]) so every digit is random */
    char digits[18];
    memcpy(digits, hex, 12);
    memcpy(digits + 12, hex + 13, 5);
    digits[17] = '\0';
    snprintf(buf, VM_ID_MAX, "%s-%s", prefix, digits);
}

bool
vm_id_valid(const char *s, const char *prefix)
{
    if (!s)
        return false;
    size_t plen = strlen(prefix);
    if (strncmp(s, prefix, plen) != 0 || s[plen] != '-')
        return false;
    const char *h = s + plen + 1;
    size_t n = strspn(h, "0123456789abcdef");
    return h[n] == '\0' && n >= 8 && n <= 17;
}
