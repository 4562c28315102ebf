package vectorize

// field names one node of the request schema: the top-level object, one of
// its sections (transaction, customer, ...) or a leaf value inside a
// section. The parser records what it has seen as a bitmask of fields and
// stores values in arrays indexed by field.
type field uint8

// The fields of a /fraud-score body, parents before their children.
const (
	root field = iota // the top-level object itself

	fieldID // top-level "id": optional, unused, must be a string
	fieldTransaction
	fieldCustomer
	fieldMerchant
	fieldTerminal
	fieldLast // "last_transaction": optional, may be null

	fieldAmount
	fieldInstallments
	fieldRequestedAt

	fieldCustomerAvg
	fieldTxCount24h
	fieldKnownMerchants

	fieldMerchantID
	fieldMCC
	fieldMerchantAvg

	fieldIsOnline
	fieldCardPresent
	fieldKmFromHome

	fieldLastTimestamp
	fieldLastKm

	numFields
)

// kind is the JSON type a field must have.
type kind uint8

const (
	kindObject       kind = iota // an object of further fields
	kindObjectOrNull             // an object, or null for "absent"
	kindNumber                   // a finite number
	kindBool                     // true or false
	kindString                   // a string, kept as a span of the body
	kindTimestamp                // an RFC 3339 date-time string
	kindStringArray              // an array of strings, kept as a span
)

// expected describes a kind for "expected X, got Y" messages.
var expected = [...]string{
	kindObject:       "an object",
	kindObjectOrNull: "an object or null",
	kindNumber:       "a number",
	kindBool:         "a boolean",
	kindString:       "a string",
	kindTimestamp:    "a string",
	kindStringArray:  "an array of strings",
}

// fieldInfo describes one field of the schema.
type fieldInfo struct {
	name     string // the key inside its parent object
	path     string // the dotted JSON path used in error messages
	parent   field
	kind     kind
	optional bool // may be absent; every other field is required
}

// schema is the request body of SPEC.md, one entry per field.
var schema = [numFields]fieldInfo{
	root: {kind: kindObject},

	fieldID:          {"id", "id", root, kindString, true},
	fieldTransaction: {"transaction", "transaction", root, kindObject, false},
	fieldCustomer:    {"customer", "customer", root, kindObject, false},
	fieldMerchant:    {"merchant", "merchant", root, kindObject, false},
	fieldTerminal:    {"terminal", "terminal", root, kindObject, false},
	fieldLast:        {"last_transaction", "last_transaction", root, kindObjectOrNull, true},

	fieldAmount:       {"amount", "transaction.amount", fieldTransaction, kindNumber, false},
	fieldInstallments: {"installments", "transaction.installments", fieldTransaction, kindNumber, false},
	fieldRequestedAt:  {"requested_at", "transaction.requested_at", fieldTransaction, kindTimestamp, false},

	fieldCustomerAvg:    {"avg_amount", "customer.avg_amount", fieldCustomer, kindNumber, false},
	fieldTxCount24h:     {"tx_count_24h", "customer.tx_count_24h", fieldCustomer, kindNumber, false},
	fieldKnownMerchants: {"known_merchants", "customer.known_merchants", fieldCustomer, kindStringArray, false},

	fieldMerchantID:  {"id", "merchant.id", fieldMerchant, kindString, false},
	fieldMCC:         {"mcc", "merchant.mcc", fieldMerchant, kindString, false},
	fieldMerchantAvg: {"avg_amount", "merchant.avg_amount", fieldMerchant, kindNumber, false},

	fieldIsOnline:    {"is_online", "terminal.is_online", fieldTerminal, kindBool, false},
	fieldCardPresent: {"card_present", "terminal.card_present", fieldTerminal, kindBool, false},
	fieldKmFromHome:  {"km_from_home", "terminal.km_from_home", fieldTerminal, kindNumber, false},

	fieldLastTimestamp: {"timestamp", "last_transaction.timestamp", fieldLast, kindTimestamp, false},
	fieldLastKm:        {"km_from_current", "last_transaction.km_from_current", fieldLast, kindNumber, false},
}

// maxKeyLen is the length of the longest key in the schema. A key that
// decodes to more bytes than this is unknown without looking further.
const maxKeyLen = len("last_transaction")

// children holds, for each field that is an object, the range of its
// children in the field order: the schema lists siblings together.
var children = func() (c [numFields]struct{ first, end field }) {
	for f := numFields - 1; f > root; f-- {
		r := &c[schema[f].parent]
		if r.end == 0 {
			r.end = f + 1
		}
		r.first = f
	}
	return c
}()

// member returns the child of parent whose name is key, or root when
// parent has no such child (root is never a child, so it is free to mean
// "unknown key").
func member(parent field, key []byte) field {
	r := children[parent]
	for f := r.first; f < r.end; f++ {
		if schema[f].name == string(key) {
			return f
		}
	}
	return root
}

// depth is the nesting depth of f's value: 1 for the top-level object, 2 for
// its members, 3 for the members of a section.
func depth(f field) int {
	d := 1
	for f != root {
		f = schema[f].parent
		d++
	}
	return d
}

// maxDepth is how deeply objects and arrays may nest, the top-level object
// counting as 1. Only unknown fields can nest deeper than 3.
const maxDepth = 64

// bit is f's bit in a bitmask of fields.
func (f field) bit() uint32 { return 1 << f }

// path is f's JSON path for error messages, "" for the top level.
func (f field) path() string { return schema[f].path }
