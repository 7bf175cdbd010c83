"""The helloworld.Greeter protocol, built in code, shared by the demo greeter and grpc-lb-check.

The descriptors are assembled from `descriptor_pb2` at import time instead of shipping
protoc-generated `_pb2.py` files: nothing has to be regenerated when protobuf changes major
version (pulumi pins protobuf < 7 while new grpcio-tools emits code for 7), and the server can
still hand the very same descriptors to server reflection, so `grpcurl host:443
helloworld.Greeter/SayHello` works without a local .proto.

The schema matches grpc/grpc `examples/protos/helloworld.proto` (same package, messages, field
numbers and method names), so any stock helloworld client or server interoperates with it.

The descriptors live in a private `DescriptorPool`, not protobuf's process-wide default pool:
importing this module from a process that already loaded another `helloworld.proto` (a user's
generated code, say) must not fail with a duplicate-symbol error.
"""

from __future__ import annotations

from typing import Protocol, cast

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import Message

__all__ = [
    "FILE_NAME",
    "METHOD_SAY_HELLO",
    "METHOD_SAY_HELLO_BIDI_STREAM",
    "METHOD_SAY_HELLO_STREAM_REPLY",
    "SERVICE_NAME",
    "add_file",
    "backend_from_reply",
    "decode_reply",
    "decode_request",
    "encode_reply",
    "encode_request",
    "file_descriptor_proto",
    "format_reply",
]

FILE_NAME = "helloworld.proto"
PACKAGE = "helloworld"
SERVICE_NAME = "helloworld.Greeter"
METHOD_SAY_HELLO = f"/{SERVICE_NAME}/SayHello"
METHOD_SAY_HELLO_STREAM_REPLY = f"/{SERVICE_NAME}/SayHelloStreamReply"
METHOD_SAY_HELLO_BIDI_STREAM = f"/{SERVICE_NAME}/SayHelloBidiStream"

# The separator between the greeting and the backend id in a reply. The probe splits on the
# LAST occurrence, so a caller's name that itself contains " from " cannot confuse it.
_FROM = " from "


def file_descriptor_proto() -> descriptor_pb2.FileDescriptorProto:
    """A fresh FileDescriptorProto of helloworld.proto (callers may add it to their own pool)."""
    string = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    fdp = descriptor_pb2.FileDescriptorProto(name=FILE_NAME, package=PACKAGE, syntax="proto3")
    fdp.options.java_multiple_files = True
    fdp.options.java_package = "io.grpc.examples.helloworld"
    fdp.options.java_outer_classname = "HelloWorldProto"
    fdp.options.objc_class_prefix = "HLW"
    fdp.message_type.add(name="HelloRequest").field.add(
        name="name", json_name="name", number=1, type=string, label=optional
    )
    fdp.message_type.add(name="HelloReply").field.add(
        name="message", json_name="message", number=1, type=string, label=optional
    )
    service = fdp.service.add(name="Greeter")
    request, reply = f".{PACKAGE}.HelloRequest", f".{PACKAGE}.HelloReply"
    service.method.add(name="SayHello", input_type=request, output_type=reply)
    service.method.add(
        name="SayHelloStreamReply", input_type=request, output_type=reply, server_streaming=True
    )
    service.method.add(
        name="SayHelloBidiStream",
        input_type=request,
        output_type=reply,
        client_streaming=True,
        server_streaming=True,
    )
    return fdp


def add_file(
    pool: descriptor_pool.DescriptorPool, fdp: descriptor_pb2.FileDescriptorProto
) -> FileDescriptor:
    """Add `fdp` to `pool` and return the built FileDescriptor (typed: the protobuf stubs leave
    DescriptorPool's methods unannotated)."""
    added = pool.AddSerializedFile(fdp.SerializeToString())  # type: ignore[no-untyped-call]
    return cast(FileDescriptor, added)


_POOL = descriptor_pool.DescriptorPool()
FILE_DESCRIPTOR = add_file(_POOL, file_descriptor_proto())
HelloRequest: type[Message] = message_factory.GetMessageClass(
    FILE_DESCRIPTOR.message_types_by_name["HelloRequest"]
)
HelloReply: type[Message] = message_factory.GetMessageClass(
    FILE_DESCRIPTOR.message_types_by_name["HelloReply"]
)


class _Request(Protocol):
    name: str


class _Reply(Protocol):
    message: str


# grpc takes plain callables as (de)serializers. Mapping the messages straight to `str` keeps the
# typed code free of dynamically built classes and saves the probe an attribute lookup per call.
def encode_request(name: str) -> bytes:
    return HelloRequest(name=name).SerializeToString()


def decode_request(data: bytes) -> str:
    return cast(_Request, HelloRequest.FromString(data)).name


def encode_reply(message: str) -> bytes:
    return HelloReply(message=message).SerializeToString()


def decode_reply(data: bytes) -> str:
    return cast(_Reply, HelloReply.FromString(data)).message


def format_reply(name: str, served_by: str) -> str:
    """The greeter's answer: `Hello <name> from <served_by>`; `backend_from_reply` inverts it."""
    return f"Hello {name}{_FROM}{served_by}"


def backend_from_reply(message: str) -> str | None:
    """The backend id at the end of a demo greeter reply, or None when the reply names none
    (a stock helloworld server answers just `Hello <name>`)."""
    head, sep, tail = message.rpartition(_FROM)
    if not sep or not head.startswith("Hello") or not tail or any(c.isspace() for c in tail):
        return None
    return tail
