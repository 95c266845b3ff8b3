; expect: unsat
;
; semantics.md E27 "Named port on ingress" (S3.4.5, S3.6.1, S3.6.2).
;
; Policy set:
;   p0 = NP(prod) {podSelector: {}, ingress: [{ports: [{port: http}]}]}
;        policyTypes [Ingress] (S3.1.2); the element's protocol defaults to TCP (S3.1.3).
; Universe: namespace atoms 0 = prod, 1 = other; port names: http.
; Destination variable |dst.serves[http]|: "the destination pod has a container port
; named http whose protocol and number equal this flow's proto and port". For the
; fixture: prod/web (http=8080/TCP) at TCP 8080 -> true, at TCP 80 -> false;
; prod/db (no http) -> always false.
;
; Question: is a flow into a prod pod (not from its own node) allowed although the
; pod does not serve http on this flow's TCP port?
; Expected: unsat: the rule allows exactly the flows with serves[http] and proto TCP.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const |dst.serves[http]| Bool)
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
; Named port element {protocol: TCP, port: http}:
;   proto = TCP AND dst is a pod AND dst serves http on (proto, port)   (S3.6.2, S3.6.3)
(define-fun p0.in0.ports () Bool
  (and (= proto TCP) (= dst.kind POD) |dst.serves[http]|))
(define-fun p0.in0 () Bool (and true p0.in0.ports))    ; from absent: every source

(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p0.selects_dst)
  (and p0.selects_dst p0.in0)))
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (not (= src.kind LOCAL_NODE)))
(assert (and (= dst.kind POD) (= dst.ns NS_prod)))
(assert (not (and (= proto TCP) |dst.serves[http]|)))  ; not http on this TCP port
(assert allowed)
(check-sat)
