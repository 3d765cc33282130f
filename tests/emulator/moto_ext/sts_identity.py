"""STS GetCallerIdentity: the ARN AWS gives an IAM user.

moto answers credentials it did not issue with `arn:aws:sts::<account>:user/moto`, an ARN AWS
never returns. For an IAM user AWS returns the user's IAM ARN, `arn:aws:iam::<account>:user/<name>`
(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html, examples: "an IAM
user" -> `arn:aws:iam::123456789012:user/Alice`; "an assumed role" ->
`arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name`). The provider maps this
ARN to the principal of the deployer's access entry, so the emulator answers as AWS does: the
default caller is the IAM user `moto`. Assumed-role sessions and moto IAM users are unchanged.
"""
import moto.sts.models as _sts_models

_orig_get_caller_identity = _sts_models.STSBackend.get_caller_identity


def _get_caller_identity(self, access_key_id, region):
    user_id, arn, account_id = _orig_get_caller_identity(self, access_key_id, region)
    prefix, sep, rest = arn.partition(":sts::")
    if sep and rest.endswith(":user/moto"):
        arn = f"{prefix}:iam::{rest}"
    return user_id, arn, account_id


_sts_models.STSBackend.get_caller_identity = _get_caller_identity
