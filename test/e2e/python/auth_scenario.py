"""python-etcd's etcd.auth module against a v2 server: one scenario, printed as JSON.

argv: host port. Creates root, a role and a user, enables auth, uses the user's client,
changes the password, revokes, disables; prints what the client saw at each step.
"""
import json
import sys

import etcd
from etcd import auth

host, port = sys.argv[1], int(sys.argv[2])
seen = {}
anon = etcd.Client(host=host, port=port)

root = auth.EtcdUser(anon, 'root')
root.password = 'rootpw'
root.write()
reader = auth.EtcdRole(anon, 'reader')
reader.grant('/pub/*', 'R')
reader.write()
check = auth.EtcdRole(anon, 'reader')
check.read()
seen['role_acls'] = check.acls
alice = auth.EtcdUser(anon, 'alice')
alice.password = 'alicepw'
alice.write()
# etcd 3.4 lists users and roles as objects; python-etcd's `names` hands them on as they are.
seen['users'] = sorted(u['user'] for u in auth.EtcdUser(anon, 'x').names)
seen['roles'] = sorted(r['role'] for r in auth.EtcdRole(anon, 'x').names)
# Reading a user back makes python-etcd put role objects in a set, which fails (against
# etcd 3.4 too), so roles are granted with the client's JSON call.
anon.api_execute_json('/v2/auth/users/alice', anon._MPUT, {'user': 'alice', 'grant': ['reader']})

a = auth.Auth(anon)
a.active = True
seen['active'] = a.active

rootc = etcd.Client(host=host, port=port, username='root', password='rootpw')
rootc.write('/pub/a', '1')
alicec = etcd.Client(host=host, port=port, username='alice', password='alicepw')
seen['alice_read'] = alicec.read('/pub/a').value
try:
    alicec.write('/pub/a', '2')
    seen['alice_write'] = 'allowed'
except etcd.EtcdException as e:
    seen['alice_write'] = type(e).__name__
try:
    anon.read('/pub/a')
    seen['anonymous_read'] = 'allowed'
except etcd.EtcdException as e:
    seen['anonymous_read'] = type(e).__name__

rootc.api_execute_json('/v2/auth/users/alice', rootc._MPUT, {'user': 'alice', 'password': 'newpw'})
newc = etcd.Client(host=host, port=port, username='alice', password='newpw')
seen['new_password_read'] = newc.read('/pub/a').value

role = auth.EtcdRole(rootc, 'reader')
role.read()
role.revoke('/pub/*', 'R')
role.write()
role.read()
seen['revoked_acls'] = role.acls

auth.Auth(rootc).active = False
seen['active_after'] = auth.Auth(anon).active
print(json.dumps(seen, sort_keys=True))
