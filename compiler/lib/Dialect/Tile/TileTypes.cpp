//===- TileTypes.cpp - Types of the tile dialect --------------------------===//
//
// Part of tlc. Parsing, printing and verification of !tile.buffer and
// !tile.channel.
//
//===----------------------------------------------------------------------===//

#include "tlc/Dialect/Tile/TileDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace tlc::tile;

#define GET_TYPEDEF_CLASSES
#include "tlc/Dialect/Tile/TileTypes.cpp.inc"

void TileDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "tlc/Dialect/Tile/TileTypes.cpp.inc"
      >();
}

std::string tlc::tile::formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(
      shape, os,
      [&](int64_t dim) {
        if (ShapedType::isDynamic(dim))
          os << '?';
        else
          os << dim;
      },
      "x");
  return result;
}

std::string tlc::tile::formatType(Type type) {
  std::string result;
  llvm::raw_string_ostream os(result);
  os << type;
  return result;
}

/// Element types a buffer or channel may hold.
static bool isValidElementType(Type type) {
  return type.isBF16() || type.isF16() || type.isF32() || type.isF64() ||
         type.isSignlessInteger(1) || type.isSignlessInteger(8) ||
         type.isSignlessInteger(32) || type.isSignlessInteger(64);
}

/// Prints `128x32xbf16` (the dimensions, each followed by `x`, then the
/// element type).
static void printShapeAndElementType(AsmPrinter &printer,
                                     ArrayRef<int64_t> shape,
                                     Type elementType) {
  for (int64_t dim : shape) {
    if (ShapedType::isDynamic(dim))
      printer << '?';
    else
      printer << dim;
    printer << 'x';
  }
  printer << elementType;
}

//===----------------------------------------------------------------------===//
// BufferType
//===----------------------------------------------------------------------===//

int64_t BufferType::getNumElements() const {
  int64_t count = 1;
  for (int64_t dim : getShape())
    count *= dim;
  return count;
}

LogicalResult
BufferType::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                   ArrayRef<int64_t> shape, Type elementType, MemoryScope scope,
                   Attribute layout) {
  if (!elementType || !isValidElementType(elementType))
    return emitError() << "buffer: unsupported element type "
                       << formatType(elementType)
                       << "; expected bf16, f16, f32, f64, i1, i8, i32 or i64";
  for (int64_t dim : shape) {
    if (ShapedType::isDynamic(dim)) {
      if (scope != MemoryScope::Global)
        return emitError() << "buffer: a " << stringifyMemoryScope(scope)
                           << " buffer must have a static shape, got "
                           << formatShape(shape)
                           << "; only global buffers have dynamic dimensions";
      continue;
    }
    if (dim <= 0)
      return emitError() << "buffer: dimensions must be positive, got "
                         << formatShape(shape);
  }
  return success();
}

Type BufferType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/true,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseComma())
    return {};

  SMLoc scopeLoc = parser.getCurrentLocation();
  StringRef scopeName;
  if (parser.parseKeyword(&scopeName))
    return {};
  std::optional<MemoryScope> scope = symbolizeMemoryScope(scopeName);
  if (!scope) {
    parser.emitError(scopeLoc)
        << "unknown memory scope '" << scopeName
        << "'; expected global, shared, fragment or local";
    return {};
  }

  Attribute layout;
  if (succeeded(parser.parseOptionalComma()) && parser.parseAttribute(layout))
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<BufferType>(loc, parser.getContext(), shape,
                                       elementType, *scope, layout);
}

void BufferType::print(AsmPrinter &printer) const {
  printer << '<';
  printShapeAndElementType(printer, getShape(), getElementType());
  printer << ", " << stringifyMemoryScope(getScope());
  if (getLayout())
    printer << ", " << getLayout();
  printer << '>';
}

//===----------------------------------------------------------------------===//
// ChannelType
//===----------------------------------------------------------------------===//

BufferType ChannelType::getSlotType() const {
  return BufferType::get(getContext(), getShape(), getElementType(),
                         MemoryScope::Shared);
}

LogicalResult
ChannelType::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                    ArrayRef<int64_t> shape, Type elementType, int64_t stages) {
  if (!elementType || !isValidElementType(elementType))
    return emitError() << "channel: unsupported element type "
                       << formatType(elementType)
                       << "; expected bf16, f16, f32, f64, i1, i8, i32 or i64";
  if (shape.empty())
    return emitError() << "channel: a slot must have at least one dimension";
  if (llvm::any_of(shape, [](int64_t dim) { return dim <= 0; }))
    return emitError() << "channel: the slot shape must be static and "
                          "positive, got "
                       << formatShape(shape);
  if (stages < 1)
    return emitError() << "channel: stages must be at least 1, got " << stages;
  return success();
}

Type ChannelType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  int64_t stages = 0;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseComma() ||
      parser.parseKeyword("stages") || parser.parseEqual() ||
      parser.parseInteger(stages) || parser.parseGreater())
    return {};
  return parser.getChecked<ChannelType>(loc, parser.getContext(), shape,
                                        elementType, stages);
}

void ChannelType::print(AsmPrinter &printer) const {
  printer << '<';
  printShapeAndElementType(printer, getShape(), getElementType());
  printer << ", stages = " << getStages() << '>';
}
