-- read_query fails at run time; the query then goes to the backend unchanged.
function read_query(packet)
	local missing = nil
	return missing.field
end
