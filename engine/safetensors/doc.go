// Package safetensors reads and writes the safetensors tensor file format
// (the format of huggingface/safetensors, which PyTorch loads with
// safetensors.torch.load_file) for float32 tensors.
//
// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON,
// and a byte buffer. The JSON object maps each tensor name to
//
//	{"dtype":"F32","shape":[rows,cols],"data_offsets":[begin,end]}
//
// and may hold "__metadata__", a map of strings to strings. Tensor data is
// little-endian and row-major; offsets count from the start of the buffer.
//
// Write lays a file out as the reference writer does, byte for byte:
// tensors sorted by name (all F32, so the reference's sort by dtype first
// changes nothing) and stored back to back in that order, "__metadata__"
// first, compact JSON escaped as serde_json escapes it, padded with spaces
// to a multiple of 8 bytes. Where the reference leaves metadata keys in
// hash order, Write sorts them, so its output depends only on its input.
//
// Read checks everything the reference checks, and more: the header length
// against MaxHeaderSize and the bytes available, UTF-8 and JSON syntax,
// duplicate names and fields at every level (encoding/json would silently
// keep the last), the dtype, integer shapes and offsets without overflow,
// each tensor's byte length against its shape, and offsets that tile the
// buffer exactly, with no gap, overlap or trailing byte. It is stricter than
// the reference in three ways that no real writer trips over: the header
// must start with '{' (as the reference's own writer does), a tensor entry
// may hold no field but dtype, shape and data_offsets, and a shape has at
// most 64 dimensions. It never allocates more than the size it is given
// allows, and never panics. Each failure wraps one of the package's
// sentinel errors (test with errors.Is) and names the tensor and what is
// wrong.
//
// Write writes F32 tensors. Read also takes F16, BF16 and F64 tensors,
// converting them to float32 as PyTorch's load_state_dict does (so a model
// saved from PyTorch in half precision loads); files holding other dtypes
// are rejected with ErrDtype, unless KeepOtherDtypes asks for such
// tensors' names and shapes.
//
// Non-finite values (NaN, ±Inf) are refused by default on both sides: Write
// rejects them and Read rejects them unless given AllowNonFinite, since a
// checkpoint of a diverged model is not worth resuming. Tensor.CheckFinite
// runs the same check on its own, for callers that want to test first.
//
// WriteFile replaces a file atomically: it writes a temporary file in the
// same directory, syncs it and renames it over the target, so a crash or
// error midway leaves the previous file as it was.
package safetensors
