"""CloudWatch Logs (AssociateKmsKey/DisassociateKmsKey, retention values) and KMS (rotation period)."""
import json

import moto.kms.responses as _kms_responses
import moto.logs.responses as _logs_responses
from moto.logs.exceptions import InvalidParameterException as _LogsInvalidParameter
from moto.logs.exceptions import ResourceNotFoundException as _LogsNotFound

_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}


def _log_group(self):
    name = self._get_param("logGroupName")
    g = self.logs_backend.groups.get(name)
    if g is None:
        raise _LogsNotFound()
    return g


def _associate_kms_key(self):
    _log_group(self).kms_key_id = self._get_param("kmsKeyId")
    return ""


def _disassociate_kms_key(self):
    _log_group(self).kms_key_id = None
    return ""


_orig_put_retention = _logs_responses.LogsResponse.put_retention_policy


def _put_retention_policy(self):
    days = self._get_param("retentionInDays")
    if days not in _RETENTION_DAYS:
        raise _LogsInvalidParameter(
            constraint=f"Member must satisfy enum value set: {sorted(_RETENTION_DAYS)}",
            parameter="retentionInDays", value=days,
        )
    return _orig_put_retention(self)


_logs_responses.LogsResponse.associate_kms_key = _associate_kms_key
_logs_responses.LogsResponse.disassociate_kms_key = _disassociate_kms_key
_logs_responses.LogsResponse.put_retention_policy = _put_retention_policy


# ---- KMS: keep RotationPeriodInDays (moto drops it) and return it from GetKeyRotationStatus
_orig_enable_rotation = _kms_responses.KmsResponse.enable_key_rotation
_orig_get_rotation = _kms_responses.KmsResponse.get_key_rotation_status


def _enable_key_rotation(self):
    period = self._get_param("RotationPeriodInDays")
    if period is not None and not 90 <= int(period) <= 2560:
        from moto.kms.exceptions import ValidationException
        raise ValidationException(
            f"1 validation error detected: Value '{period}' at 'rotationPeriodInDays' failed to satisfy "
            "constraint: Member must have value between 90 and 2560"
        )
    out = _orig_enable_rotation(self)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    key._rotation_period_days = int(self._get_param("RotationPeriodInDays") or 365)
    return out


def _get_key_rotation_status(self):
    out = json.loads(_orig_get_rotation(self))
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    out["KeyId"] = key.id
    if out.get("KeyRotationEnabled"):
        out["RotationPeriodInDays"] = getattr(key, "_rotation_period_days", 365)
    return json.dumps(out)


_kms_responses.KmsResponse.enable_key_rotation = _enable_key_rotation
_kms_responses.KmsResponse.get_key_rotation_status = _get_key_rotation_status

