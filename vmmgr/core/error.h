/* The one error contract of vmmgr.
 *
 * Functions return 0 / -1 (or a pointer / NULL) and take `vm_error *err` last.  On failure they
 * fill *err; success never touches it, and the first error set wins (later calls to
 * vm_error_set on an already set error are ignored), so the innermost, most precise cause is
 * what the user sees.  err may be NULL.  A vm_error lives on the caller's stack: nothing to free.
 *
 * Each code maps to one EC2 error <Code> and HTTP status (vm_error_code_name, vm_error_http_status);
 * the CLI and the HTTP API report the same code for the same mistake. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

typedef enum vm_err_code {
    VM_ERR_NONE = 0,
    VM_ERR_INTERNAL,                 /* InternalError, 500 */
    VM_ERR_UNAVAILABLE,              /* ServiceUnavailable, 503: libvirt down, store busy */
    VM_ERR_INVALID_ACTION,           /* InvalidAction */
    VM_ERR_UNSUPPORTED_OPERATION,    /* UnsupportedOperation */
    VM_ERR_MISSING_PARAMETER,        /* MissingParameter */
    VM_ERR_INVALID_PARAMETER_VALUE,  /* InvalidParameterValue */
    VM_ERR_INVALID_PARAMETER_COMBINATION,
    VM_ERR_UNKNOWN_PARAMETER,        /* UnknownParameter */
    VM_ERR_DRY_RUN,                  /* DryRunOperation, 412 */
    VM_ERR_INSTANCE_NOT_FOUND,       /* InvalidInstanceID.NotFound */
    VM_ERR_INSTANCE_MALFORMED,       /* InvalidInstanceID.Malformed */
    VM_ERR_AMI_NOT_FOUND,            /* InvalidAMIID.NotFound */
    VM_ERR_AMI_MALFORMED,            /* InvalidAMIID.Malformed */
    VM_ERR_INCORRECT_INSTANCE_STATE, /* IncorrectInstanceState */
    VM_ERR_IDEMPOTENT_MISMATCH,      /* IdempotentParameterMismatch */
    VM_ERR_INVALID_ID,               /* InvalidID (CreateTags on a malformed resource id) */
    VM_ERR_TAG_LIMIT,                /* TagLimitExceeded */
    VM_ERR_INSUFFICIENT_CAPACITY,    /* InsufficientInstanceCapacity, 500 */
    VM_ERR_OPERATION_NOT_PERMITTED,  /* OperationNotPermitted */
    VM_ERR_VPC_NOT_FOUND,            /* InvalidVpcID.NotFound */
    VM_ERR_AUTH_FAILURE,             /* AuthFailure, 401 */
    VM_ERR_SIGNATURE_MISMATCH,       /* SignatureDoesNotMatch, 403 */
    VM_ERR_INCOMPLETE_SIGNATURE,     /* IncompleteSignature, 400 */
    VM_ERR_REQUEST_EXPIRED,          /* RequestExpired, 400 */
    VM_ERR_MALFORMED_QUERY,          /* MalformedQueryString, 400 */
    VM_ERR_TOO_LARGE,                /* RequestEntityTooLarge, 413 */
    VM_ERR_KEYPAIR_DUPLICATE,        /* InvalidKeyPair.Duplicate */
    VM_ERR_KEYPAIR_NOT_FOUND,        /* InvalidKeyPair.NotFound */
    VM_ERR_KEY_FORMAT,               /* InvalidKey.Format */
    VM_ERR_AMI_NAME_DUPLICATE,       /* InvalidAMIName.Duplicate */
    VM_ERR_AMI_NAME_MALFORMED,       /* InvalidAMIName.Malformed */
    VM_ERR_INVALID_BLOCK_DEVICE_MAPPING, /* InvalidBlockDeviceMapping */
    VM_ERR_VOLUME_NOT_FOUND,         /* InvalidVolume.NotFound */
    VM_ERR_VOLUME_MALFORMED,         /* InvalidVolumeID.Malformed */
    VM_ERR_VOLUME_IN_USE,            /* VolumeInUse */
    VM_ERR_INCORRECT_STATE,          /* IncorrectState */
    VM_ERR_ATTACHMENT_NOT_FOUND,     /* InvalidAttachment.NotFound */
    VM_ERR_SNAPSHOT_NOT_FOUND,       /* InvalidSnapshot.NotFound */
    VM_ERR_SNAPSHOT_MALFORMED,       /* InvalidSnapshotID.Malformed */
    VM_ERR_SNAPSHOT_IN_USE,          /* InvalidSnapshot.InUse */
    VM_ERR_VPC_MALFORMED,               /* InvalidVpcID.Malformed */
    VM_ERR_VPC_RANGE,                   /* InvalidVpc.Range */
    VM_ERR_SUBNET_NOT_FOUND,            /* InvalidSubnetID.NotFound */
    VM_ERR_SUBNET_MALFORMED,            /* InvalidSubnetID.Malformed */
    VM_ERR_SUBNET_RANGE,                /* InvalidSubnet.Range */
    VM_ERR_SUBNET_CONFLICT,             /* InvalidSubnet.Conflict */
    VM_ERR_DEPENDENCY_VIOLATION,        /* DependencyViolation */
    VM_ERR_INSUFFICIENT_ADDRESSES,      /* InsufficientFreeAddressesInSubnet */
    VM_ERR_ADDRESS_IN_USE,              /* InvalidIPAddress.InUse */
    VM_ERR_GROUP_NOT_FOUND,             /* InvalidGroup.NotFound */
    VM_ERR_GROUP_MALFORMED,             /* InvalidGroupId.Malformed */
    VM_ERR_GROUP_DUPLICATE,             /* InvalidGroup.Duplicate */
    VM_ERR_GROUP_RESERVED,              /* InvalidGroup.Reserved */
    VM_ERR_PERMISSION_DUPLICATE,        /* InvalidPermission.Duplicate */
    VM_ERR_PERMISSION_NOT_FOUND,        /* InvalidPermission.NotFound */
    VM_ERR_PERMISSION_MALFORMED,        /* InvalidPermission.Malformed */
    VM_ERR_CANNOT_DELETE,               /* CannotDelete */
    VM_ERR_ENI_NOT_FOUND,               /* InvalidNetworkInterfaceID.NotFound */
    VM_ERR_RESOURCE_NOT_FOUND,          /* ResourceNotFound, 404 (CloudWatch's alarms) */
    VM_ERR_RESOURCE_NOT_FOUND_EXC,      /* ResourceNotFoundException, 404 (CloudWatch's tagging) */
    VM_ERR_LT_NAME_DUPLICATE,           /* InvalidLaunchTemplateName.AlreadyExistsException */
    VM_ERR_LT_NAME_NOT_FOUND,           /* InvalidLaunchTemplateName.NotFoundException */
    VM_ERR_LT_ID_NOT_FOUND,             /* InvalidLaunchTemplateId.NotFound */
    VM_ERR_LT_ID_MALFORMED,             /* InvalidLaunchTemplateId.Malformed */
    VM_ERR_LT_VERSION_NOT_FOUND,        /* InvalidLaunchTemplateId.VersionNotFound */
    VM_ERR_VALIDATION,                  /* ValidationError (the Query services' bad input) */
    VM_ERR_ALREADY_EXISTS,              /* AlreadyExists (Auto Scaling) */
    VM_ERR_RESOURCE_IN_USE,             /* ResourceInUse */
    VM_ERR_SCALING_IN_PROGRESS,         /* ScalingActivityInProgress */
    VM_ERR_LIMIT_EXCEEDED,              /* LimitExceeded (Auto Scaling) */
    VM_ERR_REFRESH_IN_PROGRESS,         /* InstanceRefreshInProgress */
    VM_ERR_NO_ACTIVE_REFRESH,           /* ActiveInstanceRefreshNotFound */
    VM_ERR_VOLUME_ZONE_MISMATCH,        /* InvalidVolume.ZoneMismatch */
    /* Elastic Load Balancing */
    VM_ERR_LB_NOT_FOUND,                /* LoadBalancerNotFound */
    VM_ERR_TG_NOT_FOUND,                /* TargetGroupNotFound */
    VM_ERR_LISTENER_NOT_FOUND,          /* ListenerNotFound */
    VM_ERR_RULE_NOT_FOUND,              /* RuleNotFound */
    VM_ERR_LB_DUPLICATE,                /* DuplicateLoadBalancerName */
    VM_ERR_TG_DUPLICATE,                /* DuplicateTargetGroupName */
    VM_ERR_LISTENER_DUPLICATE,          /* DuplicateListener */
    VM_ERR_PRIORITY_IN_USE,             /* PriorityInUse */
    VM_ERR_INVALID_TARGET,              /* InvalidTarget */
    VM_ERR_ELB_SUBNET,                  /* InvalidSubnet */
    VM_ERR_ELB_SECURITY_GROUP,          /* InvalidSecurityGroup */
    VM_ERR_ELB_CONFIGURATION,           /* InvalidConfigurationRequest */
    VM_ERR_ELB_SUBNET_NOT_FOUND,        /* SubnetNotFound */
    VM_ERR_IGW_NOT_FOUND,           /* InvalidInternetGatewayID.NotFound */
    VM_ERR_IGW_MALFORMED,           /* InvalidInternetGatewayId.Malformed */
    VM_ERR_RTB_NOT_FOUND,           /* InvalidRouteTableID.NotFound */
    VM_ERR_RTB_MALFORMED,           /* InvalidRouteTableId.Malformed */
    VM_ERR_ROUTE_NOT_FOUND,         /* InvalidRoute.NotFound */
    VM_ERR_ROUTE_EXISTS,            /* RouteAlreadyExists */
    VM_ERR_ASSOC_NOT_FOUND,         /* InvalidAssociationID.NotFound */
    VM_ERR_ALREADY_ASSOCIATED,      /* Resource.AlreadyAssociated */
    VM_ERR_GATEWAY_NOT_ATTACHED,    /* Gateway.NotAttached */
    VM_ERR_GATEWAY_NOT_FOUND,       /* InvalidGatewayID.NotFound */
    VM_ERR_ALLOCATION_NOT_FOUND,    /* InvalidAllocationID.NotFound */
    VM_ERR_ADDRESS_NOT_FOUND,       /* InvalidAddress.NotFound */
    VM_ERR_ADDRESS_LIMIT,           /* AddressLimitExceeded */
    VM_ERR_NATGW_NOT_FOUND,             /* NatGatewayNotFound */
    VM_ERR_VALIDATION_EXC,              /* ValidationException (ACM) */
    VM_ERR_INVALID_ARN,                 /* InvalidArnException (ACM) */
    VM_ERR_ACM_IN_USE,                  /* ResourceInUseException (ACM) */
    VM_ERR_CERT_NOT_FOUND,              /* CertificateNotFound (ELBv2) */
    VM_ERR_SSL_POLICY_NOT_FOUND,        /* SSLPolicyNotFound (ELBv2) */
    VM_ERR_TOO_MANY_CERTIFICATES,       /* TooManyCertificates (ELBv2) */
    VM_ERR__LAST
} vm_err_code;

typedef struct vm_error {
    vm_err_code code;
    int sys_errno;
    char msg[512];
} vm_error;

/* Sets *err (unless already set) and returns -1, so callers can `return vm_error_set(...)`. */
int vm_error_set(vm_error *err, vm_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As vm_error_set, with an errno whose strerror text is appended. */
int vm_error_set_errno(vm_error *err, int errnum, vm_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Copies libvirt's last error: code VM_ERR_UNAVAILABLE when the connection is gone, otherwise
 * VM_ERR_INTERNAL; the message is "<context>: <libvirt message>". */
int vm_error_from_virt(vm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* DryRunOperation: the request was valid and nothing was done.  Returns -1. */
int vm_error_dry_run(vm_error *err);

bool vm_error_is_set(const vm_error *err);
const char *vm_error_code_name(vm_err_code code);
int vm_error_http_status(vm_err_code code);
