"""ask-sdk-model objects from JSON and back, with each type's plan worked out once.

:class:`ModelSerializer` keeps the contract of ask-sdk-core's ``DefaultSerializer`` (same results,
same errors; ``tests/test_serialization.py`` holds the two side by side on every envelope the
simulator can produce and on fuzzed ones) but does not redo, on every request, what depends only
on the type: the SDK re-parses type strings such as ``"list[ask_sdk_model.slu...Slot]"`` with a
regular expression, re-imports each model class by name and rebuilds each class's attribute map
for every field of every envelope, and parses the timestamp with ``dateutil``'s free-form parser.
Here a decoder per type string and a field plan per model class are built on first use and
cached; a timestamp in the shape Alexa sends (``2026-11-25T21:00:00Z``) goes through
:meth:`datetime.fromisoformat`, anything else still through ``dateutil``, as before.

Under load this took envelope decoding from about a seventh of a worker's CPU to a few percent
(``docs/benchmarks.md``). :meth:`ModelSerializer.from_data` also decodes a body the edge has
already parsed for verification, so each request's JSON is parsed once.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]

_LIST = re.compile(r"list\[(.*)\]")
_DICT = re.compile(r"dict\(([^,]*), (.*)\)")
#: The timestamp shape Alexa sends; others fall back to dateutil as in the SDK.
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?\Z"
)


class ModelSerializer(DefaultSerializer):  # type: ignore[misc]
    """``DefaultSerializer`` with per-type decoders and per-class encoders cached; thread-safe.

    Caches only grow with the number of distinct model types (a few hundred at most), and a race
    between two threads building the same entry builds it twice with the same result.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[Any, Decoder] = {}
        self._classes: dict[str, type] = {}
        self._models: dict[type, Decoder] = {}
        self._encoders: dict[type, Encoder] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- decoding

    def deserialize(self, payload: str | None, obj_type: Any) -> Any:
        """Decode the JSON text ``payload`` into ``obj_type`` (a class or an SDK type string).

        :raises SerializationException: ``payload`` is not JSON or does not fit ``obj_type``.
        """
        if payload is None:
            return None
        try:
            data = json.loads(payload)
        except Exception:
            raise SerializationException(f"Couldn't parse response body: {payload}") from None
        return self.from_data(data, obj_type)

    def from_data(self, data: Any, obj_type: Any) -> Any:
        """Decode already-parsed JSON ``data`` into ``obj_type``; ``data`` is not modified.

        ``None`` decodes to ``None`` whatever the type, before the type is even resolved.

        :raises SerializationException: ``data`` does not fit ``obj_type``.
        """
        if data is None:
            return None
        return self._decoder(obj_type)(data)

    def _decoder(self, obj_type: Any) -> Decoder:
        decoder = self._decoders.get(obj_type)
        if decoder is None:
            decoder = self._compile(obj_type)
            with self._lock:
                self._decoders[obj_type] = decoder
        return decoder

    def _compile(self, obj_type: Any) -> Decoder:
        """A decoder of non-``None`` values of ``obj_type``, answering as ``DefaultSerializer``."""
        if isinstance(obj_type, str):
            if obj_type.startswith("list["):
                return self._compile_list(obj_type)
            if obj_type.startswith("dict("):
                return self._compile_dict(obj_type)
            if obj_type in self.NATIVE_TYPES_MAPPING:
                obj_type = self.NATIVE_TYPES_MAPPING[obj_type]
            else:
                obj_type = self._load_class(obj_type)
        if obj_type in self.PRIMITIVE_TYPES:
            return _primitive(obj_type)
        if obj_type is object:
            return _identity
        if obj_type is dt.date or obj_type is dt.datetime:
            return _timestamp(obj_type)
        return self._model(obj_type)

    def _compile_list(self, obj_type: str) -> Decoder:
        match = _LIST.match(obj_type)
        if match is None:
            return lambda _payload: []
        inner = match.group(1)
        if "," in inner:
            types = [part.strip() for part in inner.split(",")]
            return lambda payload: [
                self.from_data(item, t) for item, t in zip(payload, types, strict=False)]
        item_type = inner.strip()
        return lambda payload: [self.from_data(item, item_type) for item in payload]

    def _compile_dict(self, obj_type: str) -> Decoder:
        match = _DICT.match(obj_type)
        if match is None:
            return lambda _payload: {}
        value_type = match.group(2)
        return lambda payload: {
            key: self.from_data(value, value_type) for key, value in payload.items()}

    def _load_class(self, class_name: str) -> type:
        """The class named ``class_name`` (``"module.Class"``), imported once.

        :raises SerializationException: no such class.
        """
        cls = self._classes.get(class_name)
        if cls is not None:
            return cls
        module_name, _, name = class_name.rpartition(".")
        try:
            if not module_name:
                raise ImportError("a model class name needs its module")
            cls = getattr(__import__(module_name, fromlist=[name]), name)
            if not isinstance(cls, type):
                raise TypeError(f"{class_name} is not a class")
        except Exception as exc:
            raise SerializationException(
                f"Unable to resolve class {class_name} from installed modules: {exc}") from None
        with self._lock:
            self._classes[class_name] = cls
        return cls

    def _model(self, cls: Any) -> Decoder:
        """Decoder of one model class (or enum; or, without ``deserialized_types``, pass-through)."""
        if isinstance(cls, type) and issubclass(cls, Enum):
            return _wrapped(cls)
        if not hasattr(cls, "deserialized_types"):
            return _identity
        if hasattr(cls, "get_real_child_model"):
            def by_discriminator(payload: Any) -> Any:
                try:
                    name = cls.get_real_child_model(payload)
                    if not name:
                        raise SerializationException(
                            f"Couldn't resolve object by discriminator type for {cls} class")
                    return self._fields(self._load_class(name))(payload)
                except Exception as exc:
                    raise SerializationException(str(exc)) from None
            return by_discriminator
        return self._fields(cls)

    def _fields(self, cls: Any) -> Decoder:
        """Field-by-field decoder of model class ``cls`` (cached per class)."""
        cached = self._models.get(cls)
        if cached is not None:
            return cached
        attribute_map = dict(getattr(cls, "attribute_map", {}))
        types = cls.deserialized_types
        attribute_map.update({name: name for name in types if name not in attribute_map})
        plan = [(name, key, types[name]) for name, key in attribute_map.items()]
        known = frozenset(attribute_map.values())

        def decode(payload: Any) -> Any:
            try:
                model = cls()
                for name, key, field_type in plan:
                    if key in payload:
                        setattr(model, name, self.from_data(payload[key], field_type))
                for key in payload:
                    if key not in known:
                        setattr(model, key, payload[key])
                return model
            except Exception as exc:
                raise SerializationException(str(exc)) from None

        with self._lock:
            self._models[cls] = decode
        return decode

    # ----------------------------------------------------------------- encoding

    def serialize(self, obj: Any) -> Any:
        """JSON-ready form of ``obj`` (models become dicts keyed by their JSON names)."""
        kind = type(obj)
        encoder = self._encoders.get(kind)
        if encoder is None:
            encoder = self._encoder_for(kind)
            with self._lock:
                self._encoders[kind] = encoder
        return encoder(obj)

    def _encoder_for(self, kind: type) -> Encoder:
        """The encoder for every value of type ``kind``: the SDK's checks, in the SDK's order."""
        if kind is type(None) or issubclass(kind, self.PRIMITIVE_TYPES):
            return _identity
        if issubclass(kind, list):
            return lambda obj: [self.serialize(item) for item in obj]
        if issubclass(kind, tuple):
            return lambda obj: tuple(self.serialize(item) for item in obj)
        if issubclass(kind, dt.date):  # datetime is a date
            return lambda obj: obj.isoformat()
        if issubclass(kind, Enum):
            return lambda obj: obj.value
        if issubclass(kind, decimal.Decimal):
            return lambda obj: int(obj) if obj % 1 == 0 else float(obj)
        if issubclass(kind, dict):
            return lambda obj: {key: self.serialize(value) for key, value in obj.items()}
        if not hasattr(kind, "deserialized_types"):
            return super().serialize  # type: ignore[no-any-return]
        attribute_map = dict(getattr(kind, "attribute_map", {}))
        field_names: dict[str, str] = kind.deserialized_types  # type: ignore[attr-defined]
        pairs = [(name, attribute_map.get(name, name)) for name in field_names]

        def encode(obj: Any) -> dict[str, Any]:
            encoded = {}
            for name, key in pairs:
                value = getattr(obj, name)
                if value is not None:
                    encoded[key] = self.serialize(value)
            return encoded

        return encode


def _identity(payload: Any) -> Any:
    return payload


def _wrapped(cls: Any) -> Decoder:
    """``cls(payload)``, with any failure reported as :class:`SerializationException`."""
    def decode(payload: Any) -> Any:
        try:
            return cls(payload)
        except Exception as exc:
            raise SerializationException(str(exc)) from None
    return decode


def _primitive(kind: type) -> Decoder:
    """The SDK's primitive cast: ``kind(payload)``, values that cannot be cast kept as they are."""
    def decode(payload: Any) -> Any:
        try:
            return kind(payload)
        except UnicodeEncodeError:
            return str(payload)
        except TypeError:
            return payload
        except ValueError:
            raise SerializationException(
                f"Failed to parse {payload} into '{kind.__name__}' object") from None
    return decode


def _timestamp(kind: type) -> Decoder:
    """ISO 8601 text to ``datetime`` (or ``date``): Alexa's shape directly, others via dateutil."""
    def decode(payload: Any) -> Any:
        if isinstance(payload, str) and _ISO_TIMESTAMP.match(payload):
            parsed = dt.datetime.fromisoformat(payload)
        else:
            from dateutil.parser import parse  # type: ignore[import-untyped]

            try:
                parsed = parse(payload)
            except ValueError:
                raise SerializationException(
                    f"Failed to parse {payload} into '{kind.__name__}' object") from None
        return parsed.date() if kind is dt.date else parsed
    return decode
