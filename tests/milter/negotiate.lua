-- negotiate.lua - crmilter asks for no modification and turns off the steps it does not use
dofile(lib)
local conn = open_conn("mx.acme.com", "198.51.100.7")
for _, a in ipairs({SMFIF_ADDHDRS, SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_DELRCPT,
                    SMFIF_CHGHDRS, SMFIF_QUARANTINE}) do
	check(not mt.test_action(conn, a), "no modification action " .. a)
end
for _, o in ipairs({SMFIP_NOHELO, SMFIP_NOUNKNOWN, SMFIP_NODATA, SMFIP_NOEOH}) do
	check(mt.test_option(conn, o), "step turned off " .. o)
end
check(not mt.test_option(conn, SMFIP_NOHDRS), "headers are wanted")
check(not mt.test_option(conn, SMFIP_NOBODY), "the body is wanted")
check(not mt.test_option(conn, SMFIP_NORCPT), "recipients are wanted")
mt.disconnect(conn)
